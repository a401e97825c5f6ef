/**
 * Planned handover (dsrctl failover --to NODE), make-before-break: the target becomes master and
 * announces while the old master still forwards; the old master steps down on the target's first
 * advert, then holds off preemption.
 */
import { scenario } from './scenario-test.ts';

scenario(
  'planned handover to a lower priority and back',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 request-handover A target=B force=false
  at 1100 expect A=backup B=master A.hold=true A.master=B
  at 2000 expect A=backup B=master
  at 2500 request-handover B target=A force=false
  at 2600 expect A=master B=backup A.hold=false B.hold=true
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > request-handover A target=B force=false
       1000 A alert handover-started target=B
       1000 A send handover-request -> B
       1001 B backup -> master (handover)
       1001 B alert handover-accepted from=A
       1001 B effect become-master
       1002 A master -> backup (handover)
       1002 A alert handover-completed target=B
       1002 A effect become-backup
       1100 > expect A=backup B=master A.hold=true A.master=B
       1100   ok
       2000 > expect A=backup B=master
       2000   ok
       2500 > request-handover B target=A force=false
       2500 B alert handover-started target=A
       2500 B send handover-request -> A
       2501 A backup -> master (handover)
       2501 A alert handover-accepted from=B
       2501 A effect become-master
       2502 B master -> backup (handover)
       2502 B alert handover-completed target=A
       2502 B effect become-backup
       2600 > expect A=master B=backup A.hold=false B.hold=true
       2600   ok
  `,
);

scenario(
  'planned handover refused loudly when it cannot work',
  `
  node A id=1 prio=200
  node B id=2 prio=100 fp=9
  node C id=3 prio=50 nosync
  at 0 start A B C
  at 1000 request-handover B target=A force=false
  at 1000 request-handover A target=A force=false
  at 1000 request-handover A target=C force=false
  at 1000 request-handover A target=B force=false
  at 1000 crash B
  at 1500 request-handover A target=B force=true
  at 1600 start B
  at 1700 request-handover A target=B force=true
  at 1700 request-handover A target=B force=true
  at 1800 expect B=master A=backup
  `,
  `
          0 > start A B C
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
          0 C initialize -> backup (startup)
          1 B alert fingerprint-mismatch peer=A ours=0909 theirs=0707
          1 A alert fingerprint-mismatch peer=B ours=0707 theirs=0909
          1 C alert fingerprint-mismatch peer=B ours=0707 theirs=0909
          1 B alert fingerprint-mismatch peer=C ours=0909 theirs=0707
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > request-handover B target=A force=false
       1000   refused: E_ILLEGAL_TRANSITION: handover: only the master can hand over
       1000 > request-handover A target=A force=false
       1000   refused: E_ILLEGAL_TRANSITION: handover: cannot hand over to ourselves
       1000 > request-handover A target=C force=false
       1000   refused: E_ILLEGAL_TRANSITION: handover: the target is not in sync
       1000 > request-handover A target=B force=false
       1000   refused: E_ILLEGAL_TRANSITION: handover: the target runs a different config (fingerprints differ); use force to override
       1000 > crash B
     1261.9 A alert peer-lost peer=B silentMs=360.9
     1261.9 C alert peer-lost peer=B silentMs=360.9
       1500 > request-handover A target=B force=true
       1500   refused: E_ILLEGAL_TRANSITION: handover: the target is lost (not heard recently)
       1600 > start B
       1600 B initialize -> backup (startup)
       1601 A alert peer-recovered peer=B
       1601 A effect reannounce
       1601 C alert peer-recovered peer=B
       1601 B alert fingerprint-mismatch peer=C ours=0909 theirs=0707
     1622.9 B alert fingerprint-mismatch peer=A ours=0909 theirs=0707
       1700 > request-handover A target=B force=true
       1700 A alert handover-started target=B
       1700 A send handover-request -> B
       1700 > request-handover A target=B force=true
       1700   refused: E_ILLEGAL_TRANSITION: handover: a handover to 2 is already in progress
       1701 B backup -> master (handover)
       1701 B alert handover-accepted from=A
       1701 B effect become-master
       1702 A master -> backup (handover)
       1702 A alert handover-completed target=B
       1702 A effect become-backup
       1800 > expect B=master A=backup
       1800   ok
  `,
);

scenario(
  'the target refuses when it went out of sync meanwhile; the master stays master',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 set-sync-ready B ready=false
  at 1000 request-handover A target=B force=false
  at 1100 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > set-sync-ready B ready=false
       1000 > request-handover A target=B force=false
       1000 A alert handover-started target=B
       1000 A send handover-request -> B
       1001 B send handover-reject -> A (not-sync-ready)
       1002 A alert handover-failed target=B reason=not-sync-ready
       1100 > expect A=master B=backup
       1100   ok
  `,
);

scenario(
  'the target dies before answering: the handover fails when the target is lost, the master stays',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 crash B
  at 1000 request-handover A target=B force=false
  at 2000 expect A=master A.hold=false
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > crash B
       1000 > request-handover A target=B force=false
       1000 A alert handover-started target=B
       1000 A send handover-request -> B
     1261.9 A alert peer-lost peer=B silentMs=360.9
     1261.9 A alert handover-failed target=B reason=target-lost
       2000 > expect A=master A.hold=false
       2000   ok
  `,
);

scenario(
  'the target took over on its own meanwhile (it could not hear us): the master accepts that as done',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 cut A > B
  at 1000 request-handover A target=B force=false
  at 1700 heal
  at 2000 expect A=backup B=master A.hold=true
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > cut A > B
       1000 > request-handover A target=B force=false
       1000 A alert handover-started target=B
       1000 A send handover-request -> B
     1244.8 B alert peer-lost peer=A silentMs=321.9
     1283.8 B backup -> master (master-down)
     1283.8 B effect become-master
     1284.8 A master -> backup (handover)
     1284.8 A alert handover-completed target=B
     1284.8 A effect become-backup
       1700 > heal
     1785.8 B alert peer-recovered peer=A
     1785.8 B effect reannounce
       2000 > expect A=backup B=master A.hold=true
       2000   ok
  `,
);

scenario(
  'handover in a trio: the third node, outranking the target, preempts it as the rules say',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  node C id=3 prio=150
  at 0 start A B C
  at 1000 request-handover A target=B force=false
  at 1100 expect B=master
  at 1500 expect C=master B=backup A=backup
  `,
  `
          0 > start A B C
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
          0 C initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > request-handover A target=B force=false
       1000 A alert handover-started target=B
       1000 A send handover-request -> B
       1001 B backup -> master (handover)
       1001 B alert handover-accepted from=A
       1001 B effect become-master
       1002 A master -> backup (handover)
       1002 A alert handover-completed target=B
       1002 A effect become-backup
       1100 > expect B=master
       1100   ok
     1264.3 C backup -> master (preempt)
     1264.3 C effect become-master
     1265.3 B master -> backup (higher-priority-master)
     1265.3 B effect become-backup
       1500 > expect C=master B=backup A=backup
       1500   ok
  `,
);
