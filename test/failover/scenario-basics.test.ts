/**
 * Election scenarios: startup, master loss, graceful stop, priority-0 resign, equal priorities.
 * Timing reminders (interval 100 ms, RFC 5798 §6.1): Skew = (256 − prio) × 100 / 256,
 * Master_Down = 300 + Skew. prio 200 → 321.9, prio 150 → 341.4, prio 100 → 360.9.
 */
import { scenario } from './scenario-test.ts';

scenario(
  'startup: after one master-down interval of listening, the highest priority becomes master',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 321 expect A=backup B=backup
  at 500 expect A=master B=backup B.master=A A.master=A
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
        321 > expect A=backup B=backup
        321   ok
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
        500 > expect A=master B=backup B.master=A A.master=A
        500   ok
  `,
);

scenario(
  'startup of three: skew time orders the takeover, the others follow the master',
  `
  node A id=1 prio=100
  node B id=2 prio=150
  node C id=3 prio=200
  at 0 start A B C
  at 500 expect A=backup B=backup C=master A.master=C B.master=C
  `,
  `
          0 > start A B C
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
          0 C initialize -> backup (startup)
      321.9 C backup -> master (master-down)
      321.9 C effect become-master
        500 > expect A=backup B=backup C=master A.master=C B.master=C
        500   ok
  `,
);

scenario(
  'master loss (kill -9): the next priority takes over after its master-down interval, then in order',
  `
  node A id=1 prio=200
  node B id=2 prio=150
  node C id=3 prio=100
  at 0 start A B C
  at 1000 crash A
  at 1500 expect B=master C=backup C.master=B
  at 2000 crash B
  at 2500 expect C=master
  at 3000 restart A
  at 3500 expect A=master C=backup
  `,
  `
          0 > start A B C
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
          0 C initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > crash A
     1244.8 B alert peer-lost peer=A silentMs=321.9
     1244.8 C alert peer-lost peer=A silentMs=321.9
     1264.3 B backup -> master (master-down)
     1264.3 B effect become-master
       1500 > expect B=master C=backup C.master=B
       1500   ok
       2000 > crash B
     2306.7 C alert peer-lost peer=B silentMs=341.4
     2326.2 C backup -> master (master-down)
     2326.2 C effect become-master
       2500 > expect C=master
       2500   ok
       3000 > restart A
       3000 A initialize -> backup (startup)
       3001 C alert peer-recovered peer=A
       3001 C effect reannounce
     3321.9 A backup -> master (preempt)
     3321.9 A effect become-master
     3322.9 C master -> backup (higher-priority-master)
     3322.9 C effect become-backup
       3500 > expect A=master C=backup
       3500   ok
  `,
);

scenario(
  'graceful stop sends priority 0: the backup takes over after skew time only',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 stop A
  at 1100 expect A=down B=master
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > stop A
       1000 A master -> initialize (shutdown)
       1000 A effect become-backup
       1000 A send advert prio=0
     1061.9 B backup -> master (master-resigned)
     1061.9 B effect become-master
       1100 > expect A=down B=master
       1100   ok
  `,
);

scenario(
  'resign: priority 0, takeover after skew, the resigned node holds off preemption until released',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 resign A
  at 1100 expect A=backup B=master A.hold=true A.master=B
  at 2000 expect A=backup B=master
  at 2000 resign A
  at 2000 release-hold A
  at 2500 expect A=master B=backup A.hold=false
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > resign A
       1000 A master -> backup (resign)
       1000 A effect become-backup
       1000 A send advert prio=0
     1061.9 B backup -> master (master-resigned)
     1061.9 B effect become-master
       1100 > expect A=backup B=master A.hold=true A.master=B
       1100   ok
       2000 > expect A=backup B=master
       2000   ok
       2000 > resign A
       2000   refused: E_ILLEGAL_TRANSITION: resign: only the master can resign
       2000 > release-hold A
     2284.8 A backup -> master (preempt)
     2284.8 A effect become-master
     2285.8 B master -> backup (higher-priority-master)
     2285.8 B effect become-backup
       2500 > expect A=master B=backup A.hold=false
       2500   ok
  `,
);

scenario(
  'resigned node still takes over when the master dies (unplanned takeover is never held)',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 resign A
  at 1500 crash B
  at 2000 expect A=master A.hold=false
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > resign A
       1000 A master -> backup (resign)
       1000 A effect become-backup
       1000 A send advert prio=0
     1061.9 B backup -> master (master-resigned)
     1061.9 B effect become-master
       1500 > crash B
     1784.8 A backup -> master (master-down)
     1784.8 A effect become-master
     1823.9 A alert peer-lost peer=B silentMs=360.9
       2000 > expect A=master A.hold=false
       2000   ok
  `,
);

scenario(
  'equal priorities: started together, both claim; the higher node id wins at once, and no split brain is raised',
  `
  node A id=1 prio=100
  node B id=2 prio=100
  at 0 start A B
  at 500 expect A=backup B=master
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      360.9 A backup -> master (master-down)
      360.9 A effect become-master
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
      361.9 B effect reannounce
      361.9 A master -> backup (startup-race-lost)
      361.9 A effect become-backup
        500 > expect A=backup B=master
        500   ok
  `,
);

scenario(
  'equal priorities: a returning node with the same priority does not preempt',
  `
  node A id=1 prio=100
  node B id=2 prio=100
  at 0 start A
  at 1000 start B
  at 2000 expect A=master B=backup B.master=A
  `,
  `
          0 > start A
          0 A initialize -> backup (startup)
      360.9 A backup -> master (master-down)
      360.9 A effect become-master
       1000 > start B
       1000 B initialize -> backup (startup)
       2000 > expect A=master B=backup B.master=A
       2000   ok
  `,
);
