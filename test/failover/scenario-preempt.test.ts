/**
 * Election scenarios: preempt, nopreempt, preempt_delay, tracked conditions, sync gating.
 * Timing reminders (interval 100 ms): Master_Down prio 200 → 321.9, 150 → 341.4, 100 → 360.9;
 * a priority of 80 → 368.8.
 */
import { scenario } from './scenario-test.ts';

scenario(
  'preempt (default): a higher priority joining discards the lower adverts and takes over',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start B
  at 1000 start A
  at 1200 expect A=backup B=master A.master=B
  at 1500 expect A=master B=backup B.master=A
  `,
  `
          0 > start B
          0 B initialize -> backup (startup)
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
       1000 > start A
       1000 A initialize -> backup (startup)
       1200 > expect A=backup B=master A.master=B
       1200   ok
     1321.9 A backup -> master (preempt)
     1321.9 A effect become-master
     1322.9 B master -> backup (higher-priority-master)
     1322.9 B effect become-backup
       1500 > expect A=master B=backup B.master=A
       1500   ok
  `,
);

scenario(
  'nopreempt: a higher priority joining stays backup until the master is gone',
  `
  node A id=1 prio=200 nopreempt
  node B id=2 prio=100
  at 0 start B
  at 1000 start A
  at 3000 expect A=backup B=master
  at 3000 crash B
  at 3500 expect A=master
  `,
  `
          0 > start B
          0 B initialize -> backup (startup)
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
       1000 > start A
       1000 A initialize -> backup (startup)
       3000 > expect A=backup B=master
       3000   ok
       3000 > crash B
     3283.8 A backup -> master (master-down)
     3283.8 A effect become-master
     3322.9 A alert peer-lost peer=B silentMs=360.9
       3500 > expect A=master
       3500   ok
  `,
);

scenario(
  'preempt_delay: preemption waits the delay, then one master-down interval',
  `
  node A id=1 prio=200 preempt_delay=1000
  node B id=2 prio=100
  at 0 start B
  at 1000 start A
  at 2200 expect A=backup B=master
  at 2400 expect A=master B=backup
  `,
  `
          0 > start B
          0 B initialize -> backup (startup)
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
       1000 > start A
       1000 A initialize -> backup (startup)
       2200 > expect A=backup B=master
       2200   ok
     2283.8 A backup -> master (preempt)
     2283.8 A effect become-master
     2284.8 B master -> backup (higher-priority-master)
     2284.8 B effect become-backup
       2400 > expect A=master B=backup
       2400   ok
  `,
);

scenario(
  'tracked condition with a weight: priority drops below the backup, which preempts; restored, it preempts back',
  `
  node A id=1 prio=200 track=link:120
  node B id=2 prio=150
  at 0 start A B
  at 1000 set-condition A name=link failing=true
  at 1000 expect A.prio=80
  at 1500 expect A=backup B=master
  at 2000 set-condition A name=link failing=false
  at 2500 expect A=master B=backup A.prio=200
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > set-condition A name=link failing=true
       1000 > expect A.prio=80
       1000   ok
     1264.3 B backup -> master (preempt)
     1264.3 B effect become-master
     1265.3 A master -> backup (higher-priority-master)
     1265.3 A effect become-backup
       1500 > expect A=backup B=master
       1500   ok
       2000 > set-condition A name=link failing=false
       2334 A backup -> master (preempt)
       2334 A effect become-master
       2335 B master -> backup (higher-priority-master)
       2335 B effect become-backup
       2500 > expect A=master B=backup A.prio=200
       2500   ok
  `,
);

scenario(
  'weights never take the priority to 0 or below',
  `
  node A id=1 prio=100 track=a:90 track=b:90
  at 0 start A
  at 10 set-condition A name=a failing=true
  at 10 set-condition A name=b failing=true
  at 20 expect A.prio=1
  at 30 set-condition A name=nosuch failing=true
  `,
  `
          0 > start A
          0 A initialize -> backup (startup)
         10 > set-condition A name=a failing=true
         10 > set-condition A name=b failing=true
         20 > expect A.prio=1
         20   ok
         30 > set-condition A name=nosuch failing=true
         30   refused: E_ELECTION_INPUT: no tracked condition has this name
  `,
);

scenario(
  'tracked fault condition: the master resigns into Fault; cleared, it listens then preempts back',
  `
  node A id=1 prio=200 track=fw:fault
  node B id=2 prio=150
  at 0 start A B
  at 1000 set-condition A name=fw failing=true
  at 1100 expect A=fault B=master
  at 2000 set-condition A name=fw failing=false
  at 2100 expect A=backup
  at 2500 expect A=master B=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > set-condition A name=fw failing=true
       1000 A master -> fault (fault)
       1000 A effect become-backup
       1000 A send advert prio=0
     1042.4 B backup -> master (master-resigned)
     1042.4 B effect become-master
       1100 > expect A=fault B=master
       1100   ok
       2000 > set-condition A name=fw failing=false
       2000 A fault -> backup (fault-cleared)
       2100 > expect A=backup
       2100   ok
     2321.9 A backup -> master (preempt)
     2321.9 A effect become-master
     2322.9 B master -> backup (higher-priority-master)
     2322.9 B effect become-backup
       2500 > expect A=master B=backup
       2500   ok
  `,
);

scenario(
  'operator priority change: raised above the master, the backup preempts',
  `
  node A id=1 prio=200
  node B id=2 prio=100
  at 0 start A B
  at 1000 set-priority B priority=250
  at 1000 set-priority B priority=254
  at 1500 expect B=master A=backup
  `,
  `
          0 > start A B
          0 A initialize -> backup (startup)
          0 B initialize -> backup (startup)
      321.9 A backup -> master (master-down)
      321.9 A effect become-master
       1000 > set-priority B priority=250
       1000 > set-priority B priority=254
     1283.8 B backup -> master (preempt)
     1283.8 B effect become-master
     1284.8 A master -> backup (higher-priority-master)
     1284.8 A effect become-backup
       1500 > expect B=master A=backup
       1500   ok
  `,
);

scenario(
  'sync gating: not in sync, a higher priority does not preempt; once in sync it does',
  `
  node A id=1 prio=200 nosync
  node B id=2 prio=100
  at 0 start B
  at 1000 start A
  at 2000 expect A=backup B=master
  at 2000 set-sync-ready A ready=true
  at 2500 expect A=master B=backup
  `,
  `
          0 > start B
          0 B initialize -> backup (startup)
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
       1000 > start A
       1000 A initialize -> backup (startup)
       2000 > expect A=backup B=master
       2000   ok
       2000 > set-sync-ready A ready=true
     2283.8 A backup -> master (preempt)
     2283.8 A effect become-master
     2284.8 B master -> backup (higher-priority-master)
     2284.8 B effect become-backup
       2500 > expect A=master B=backup
       2500   ok
  `,
);

scenario(
  'sync gating: not in sync, the unplanned takeover still happens when the master dies',
  `
  node A id=1 prio=200 nosync
  node B id=2 prio=100
  at 0 start B
  at 1000 start A
  at 1500 crash B
  at 2000 expect A=master
  `,
  `
          0 > start B
          0 B initialize -> backup (startup)
      360.9 B backup -> master (master-down)
      360.9 B effect become-master
       1000 > start A
       1000 A initialize -> backup (startup)
       1500 > crash B
     1783.8 A backup -> master (master-down)
     1783.8 A effect become-master
     1822.9 A alert peer-lost peer=B silentMs=360.9
       2000 > expect A=master
       2000   ok
  `,
);
