#pragma once
// What ps and pgrep show for a process that outlives the command line it was started with: the
// reuse master is forked from a stub, and `gcc -c x.c` lingering in ps for half a minute (or
// matching `pgrep gcc`) would mislead whoever looks at the container.
#include <string>

namespace k8psh {

// main() hands its arguments over once, before anything else reads the environment.
void remember_process_arguments(int argc, char **argv);

// Rewrites the command line in place (the environment is moved out of the way first, so the
// title fits), and the process name (comm: the title's first word) that pgrep matches.
void set_process_title(const std::string &title);

}  // namespace k8psh
