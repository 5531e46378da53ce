#include "job_control.h"

#include "terminal.h"

#include <csignal>
#include <unistd.h>

namespace k8psh {

void suspend_self() {
    // The shell takes the terminal back as soon as the job's leader (make) has stopped, maybe
    // before this runs: restore_terminal() copes with being in the background by then.
    restore_terminal();
    // SIGSTOP, not SIGTSTP: our own handler would catch the latter.
    kill(getpid(), SIGSTOP);
}

void resume_terminal(bool raw_wanted) {
    if (raw_wanted && !terminal_is_raw() && terminal_in_foreground()) {
        enter_raw_mode();
    }
}

}  // namespace k8psh
