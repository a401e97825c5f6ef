/**
 * Election scenarios: fingerprint mismatch, forged / replayed / malformed / stale packets,
 * stall and resume (self-fencing), clock steps, split brain.
 * Timing reminders (interval 100 ms): Master_Down prio 200 → 321.9, prio 100 → 360.9.
 */
import { scenario } from './scenario-test.ts';

scenario(
  'fingerprint mismatch is reported once per change, not per packet, and does not block the election',
  `
  node A id=1 prio=200
  node B id=2 prio=100 fp=9
  at 0 start A B
  at 500 expect A=master A.peer.B.fp=mismatch B.peer.A.fp=mismatch
  at 1000 set-fingerprint B fingerprint=7
  at 1100 expect A.peer.B.fp=match
  at 1500 set-fingerprint A fingerprint=8
  end 1600
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
          1 B alert fingerprint-mismatch peer=A ours=0909 theirs=0707
          1 A alert fingerprint-mismatch peer=B ours=0707 theirs=0909
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
        500 > expect A=master A.peer.B.fp=mismatch B.peer.A.fp=mismatch
        500   ok
       1000 > set-fingerprint B fingerprint=7
       1000 B alert fingerprint-match peer=A
       1001 A alert fingerprint-match peer=B
       1100 > expect A.peer.B.fp=match
       1100   ok
       1500 > set-fingerprint A fingerprint=8
       1500 A alert fingerprint-mismatch peer=B ours=0808 theirs=0707
       1501 B alert fingerprint-mismatch peer=A ours=0707 theirs=0808
  `,
);

scenario(
  'forged, unknown-key, replayed and malformed packets are dropped, counted, and change nothing',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 500 forge A > B
  at 510 forge-keyid A > B
  at 520 replay A > B
  at 530 truncate A > B
  at 540 garbage A > B deadbeef
  at 550 garbage A > B d5e1020100640101
  at 600 expect A=master B=backup B.master=A
  at 600 expect B.drops.bad-mac=1 B.drops.unknown-key=1 B.drops.replay=1 B.drops.bad-length=1 B.drops.too-short=1 B.drops.bad-version=1
  at 2000 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
        500 > forge A > B
        501 B drop bad-mac (from A)
        510 > forge-keyid A > B
        511 B drop unknown-key (from A)
        520 > replay A > B
        521 B drop replay (from A)
        530 > truncate A > B
        531 B drop bad-length (from A)
        540 > garbage A > B deadbeef
        541 B drop too-short (from A)
        550 > garbage A > B d5e1020100640101
        551 B drop bad-version (from A)
        600 > expect A=master B=backup B.master=A
        600   ok
        600 > expect B.drops.bad-mac=1 B.drops.unknown-key=1 B.drops.replay=1 B.drops.bad-length=1 B.drops.too-short=1 B.drops.bad-version=1
        600   ok
       2000 > expect A=master B=backup
       2000   ok
  `,
);

scenario(
  'a forged master advert with priority 254 cannot make the master step down',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 500 forge B > A
  at 600 expect A=master A.drops.bad-mac=1
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
        500 > forge B > A
        501 A drop bad-mac (from B)
        600 > expect A=master A.drops.bad-mac=1
        600   ok
  `,
);

scenario(
  'replay of a packet from an earlier run of the peer is dropped; a held-back packet is stale',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 600 capture A > B
  at 1000 restart A
  at 1500 inject-captured A > B
  at 1600 hold A > B
  at 1800 release-held A > B
  at 2100 hold A > B
  at 4500 release-held A > B
  at 4600 expect B.drops.replay=1 B.drops.stale=1 A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
        600 > capture A > B
       1000 > restart A
       1000 A initialize -> backup (startup)
     1283.8 B backup -> master (master-down)
     1283.8 B effect become-master
     1321.9 A backup -> master (preempt)
     1321.9 A effect become-master
     1322.9 B master -> backup (higher-priority-master)
     1322.9 B effect become-backup
       1500 > inject-captured A > B
       1501 B drop replay (from A)
       1600 > hold A > B
       1800 > release-held A > B
       1800   released 1 packet(s)
       2100 > hold A > B
       4500 > release-held A > B
       4500   released 1 packet(s)
       4501 B drop stale (from A)
       4600 > expect B.drops.replay=1 B.drops.stale=1 A=master B=backup
       4600   ok
  `,
);

scenario(
  'stall shorter than the master-down interval: the master carries on',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 pause A
  at 1200 resume A
  at 1300 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > pause A
       1200 > resume A
       1300 > expect A=master B=backup
       1300   ok
  `,
);

scenario(
  'stall (SIGSTOP) of the master past master-down: on resume it fences itself, re-learns, then preempts back',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 pause A
  at 1500 expect B=master A=master
  at 1700 resume A
  at 1700 expect A=backup B=master A.master=B  # learnt from the adverts queued while stopped
  at 2100 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > pause A
     1244.8 B alert peer-lost peer=A silentMs=321.9
     1283.8 B backup -> master (master-down)
     1283.8 B effect become-master
       1500 > expect B=master A=master
       1500   ok
       1700 > resume A
       1700 A master -> backup (stall)
       1700 A alert stall-detected gapMs=778.1 thresholdMs=321.9
       1700 A effect become-backup
       1700 > expect A=backup B=master A.master=B
       1700   ok
       1701 B alert peer-recovered peer=A
       1701 B effect reannounce
     2021.9 A backup -> master (preempt)
     2021.9 A effect become-master
     2022.9 B master -> backup (higher-priority-master)
     2022.9 B effect become-backup
       2100 > expect A=master B=backup
       2100   ok
  `,
);

scenario(
  'stall just past the threshold, before the backup noticed: the master steps down, the backup takes over on its timer',
  `
  node A id=1 prio=200 nopreempt
  node B id=2 prio=100
  at 0 start A B
  at 1000 pause A
  at 1250 resume A
  at 1400 expect A=backup B=master A.master=B
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > pause A
     1244.8 B alert peer-lost peer=A silentMs=321.9
       1250 > resume A
       1250 A master -> backup (stall)
       1250 A alert stall-detected gapMs=328.1 thresholdMs=321.9
       1250 A effect become-backup
       1251 B alert peer-recovered peer=A
     1283.8 B backup -> master (master-down)
     1283.8 B effect become-master
       1400 > expect A=backup B=master A.master=B
       1400   ok
  `,
);

scenario(
  'the whole host paused past master-down (both directors): the master re-learns and claims again, nothing moves',
  `
  node A id=1 prio=200 nopreempt
  node B id=2 prio=100
  at 0 start A B
  at 1000 pause A
  at 1000 pause B
  at 1500 resume A
  at 1500 resume B
  at 1550 expect A=backup B=backup  # A re-learns for one interval; B for a master-down interval
  at 1700 expect A=master B=backup B.master=A
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > pause A
       1000 > pause B
       1500 > resume A
       1500 A master -> backup (stall)
       1500 A alert stall-detected gapMs=578.1 thresholdMs=321.9
       1500 A effect become-backup
       1500 > resume B
       1500 B alert stall-detected gapMs=577.1 thresholdMs=360.9
       1550 > expect A=backup B=backup
       1550   ok
       1600 A backup -> master (relearned)
       1600 A effect become-master
       1700 > expect A=master B=backup B.master=A
       1700   ok
  `,
);

scenario(
  'stall of a backup: it re-learns instead of claiming on its expired timer',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 pause B
  at 2000 resume B
  at 2000 expect B=backup B.master=A  # not master, although its timer had run out
  at 2500 expect A=master B=backup B.master=A
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > pause B
     1261.9 A alert peer-lost peer=B silentMs=360.9
       2000 > resume B
       2000 B alert stall-detected gapMs=1077.1 thresholdMs=360.9
       2000 > expect B=backup B.master=A
       2000   ok
       2001 A alert peer-recovered peer=B
       2001 A effect reannounce
       2500 > expect A=master B=backup B.master=A
       2500   ok
  `,
);

scenario(
  'clock steps: wall-clock steps change nothing; a monotonic clock going back is clamped and reported',
  `
  node A id=1 prio=200
  node B id=2 prio=100 wall=-3000000
  at 0 start A B
  at 1000 clock A +3600000
  at 1500 clock B -7200000
  at 2000 monoback A 150
  at 2500 expect A=master B=backup A.drops.stale=0 B.drops.stale=0 A.drops.replay=0 B.drops.replay=0
  at 3000 restart B
  at 3500 expect A.drops.stale=0 A.drops.replay=0 A.peer.B.lost=false
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > clock A +3600000
       1500 > clock B -7200000
       2000 > monoback A 150
       2001 A alert clock-went-backwards byMs=70.9
       2500 > expect A=master B=backup A.drops.stale=0 B.drops.stale=0 A.drops.replay=0 B.drops.replay=0
       2500   ok
       3000 > restart B
       3000 B initialize -> backup (startup)
       3500 > expect A.drops.stale=0 A.drops.replay=0 A.peer.B.lost=false
       3500   ok
  `,
);

scenario(
  'clock stepped back across a restart with no persisted session: replay drops until the operator forgets the peer',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 clock B -60000
  at 1000 restart B nostate
  at 1500 expect A.drops.replay=5 A.peer.B.lost=true
  at 1500 forget A B
  at 2000 expect A.drops.replay=5 A.peer.B.lost=false A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > clock B -60000
       1000 > restart B nostate
       1000 B initialize -> backup (startup)
       1001 A drop replay (from B)
       1101 A drop replay (from B)
       1201 A drop replay (from B)
     1261.9 A alert peer-lost peer=B silentMs=360.9
       1301 A drop replay (from B)
       1401 A drop replay (from B)
       1500 > expect A.drops.replay=5 A.peer.B.lost=true
       1500   ok
       1500 > forget A B
       1501 A alert peer-recovered peer=B
       1501 A effect reannounce
       2000 > expect A.drops.replay=5 A.peer.B.lost=false A=master B=backup
       2000   ok
  `,
);

scenario(
  'split brain after a partition heals: resolved at once by the rules, alerted, VIPs announced again',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 partition A | B
  at 1500 expect A=master B=master
  at 2000 heal
  at 2100 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > partition A | B
     1244.8 B alert peer-lost peer=A silentMs=321.9
     1261.9 A alert peer-lost peer=B silentMs=360.9
     1283.8 B backup -> master (master-down)
     1283.8 B effect become-master
       1500 > expect A=master B=master
       1500   ok
       2000 > heal
     2022.9 B master -> backup (split-brain-lost)
     2022.9 B alert peer-recovered peer=A
     2022.9 B alert split-brain-detected peer=A winner=A
     2022.9 B alert split-brain-resolved peer=A
     2022.9 B effect become-backup
     2023.9 A alert peer-recovered peer=B
     2023.9 A effect reannounce
       2100 > expect A=master B=backup
       2100   ok
  `,
);

scenario(
  'started apart by a partition: the meeting of two long-standing masters is a split brain, not a start-up race',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 partition A | B
  at 0 start A B
  at 2000 heal
  at 2100 expect A=master B=backup
  `,
  `
          0 > partition A | B
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
       2000 > heal
     2022.9 B master -> backup (split-brain-lost)
     2022.9 B alert split-brain-detected peer=A winner=A
     2022.9 B alert split-brain-resolved peer=A
     2022.9 B effect become-backup
       2100 > expect A=master B=backup
       2100   ok
  `,
);

scenario(
  'one-way failure: the master that hears the other and is not heard yields after 3 adverts; after its hold it takes back a healed link',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 cut A > B
  at 2000 expect A=backup B=master
  at 2500 heal
  at 3000 expect A=backup B=master
  at 5500 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > cut A > B
     1244.8 B alert peer-lost peer=A silentMs=321.9
     1283.8 B backup -> master (master-down)
     1283.8 B effect become-master
     1284.8 A alert split-brain-detected peer=B winner=A
     1284.8 A effect reannounce
     1584.8 A master -> backup (one-way-partition)
     1584.8 A alert split-brain-resolved peer=B
     1584.8 A effect become-backup
       2000 > expect A=backup B=master
       2000   ok
       2500 > heal
     2585.8 B alert peer-recovered peer=A
     2585.8 B effect reannounce
       3000 > expect A=backup B=master
       3000   ok
     5106.7 A backup -> master (preempt)
     5106.7 A effect become-master
     5107.7 B master -> backup (higher-priority-master)
     5107.7 B effect become-backup
       5500 > expect A=master B=backup
       5500   ok
  `,
);

scenario(
  'a lasting one-way cut: one owner but for a short overlap each time the hold ends',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 cut A > B
  at 2000 expect A=backup B=master
  at 6000 expect A=backup B=master
  at 10000 expect A=backup B=master
  at 13500 expect A=backup B=master
  `,
  `
      0 > start A B
      0 A initialize -> backup (startup)
      0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
      1000 > cut A > B
      1244.8 B alert peer-lost peer=A silentMs=321.9
      1283.8 B backup -> master (master-down)
      1283.8 B effect become-master
      1284.8 A alert split-brain-detected peer=B winner=A
      1284.8 A effect reannounce
      1584.8 A master -> backup (one-way-partition)
      1584.8 A alert split-brain-resolved peer=B
      1584.8 A effect become-backup
      2000 > expect A=backup B=master
      2000   ok
      5106.7 A backup -> master (preempt)
      5106.7 A effect become-master
      5484.8 A alert split-brain-detected peer=B winner=A
      5484.8 A effect reannounce
      5784.8 A master -> backup (one-way-partition)
      5784.8 A alert split-brain-resolved peer=B
      5784.8 A effect become-backup
      6000 > expect A=backup B=master
      6000   ok
      10000 > expect A=backup B=master
      10000   ok
      12506.7 A backup -> master (preempt)
      12506.7 A effect become-master
      12884.8 A alert split-brain-detected peer=B winner=A
      12884.8 A effect reannounce
      13184.8 A master -> backup (one-way-partition)
      13184.8 A alert split-brain-resolved peer=B
      13184.8 A effect become-backup
      13500 > expect A=backup B=master
      13500   ok
  `,
);
