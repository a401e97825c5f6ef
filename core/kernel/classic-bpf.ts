/**
 * Classic BPF, the socket filter language SO_ATTACH_FILTER takes (linux/filter.h, linux/bpf_common.h;
 * the kernel's Documentation/networking/filter.rst): the instruction layout and the few opcodes a
 * socket filter of ours needs. Pure; libc.ts attaches a program to a socket.
 *
 * A filter runs in the kernel on every frame the socket would receive, before anything is queued:
 * it returns how many bytes of the frame to keep, 0 dropping it. A load past the end of the frame
 * ends the program with 0, so a short frame is dropped, never misread.
 */

/** One instruction: struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } (8 bytes). */
export interface SockFilter {
  readonly code: number;
  /** Instructions to skip when a conditional jump is taken / not taken. */
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Instruction classes, sizes, modes and operations (linux/bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_ABS = 0x20;
export const BPF_JEQ = 0x10;
export const BPF_K = 0x00;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** BPF_STMT(code, k). */
export function stmt(code: number, k: number): SockFilter {
  return { code, jt: 0, jf: 0, k };
}

/** BPF_JUMP(code, k, jt, jf). */
export function jump(code: number, k: number, jt: number, jf: number): SockFilter {
  return { code, jt, jf, k };
}
