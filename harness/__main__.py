import faulthandler
import signal

from harness.cli import main

# `kill -USR1 <pid>` prints every thread's stack to stderr and the run goes on: where a run that
# seems stuck is waiting (the harness's own tests ask for it when a run overstays).
DUMP_STACKS_SIGNAL = signal.SIGUSR1
faulthandler.register(DUMP_STACKS_SIGNAL, all_threads=True)

raise SystemExit(main())
