#pragma once
// A process started with stdin, stdout or stderr closed hands the first descriptor it opens
// (the stub's signal self-pipe, a socket, a key file) to whoever reads or writes 0, 1 or 2: the
// stub then reads its own signal pipe as stdin and waits for ever, or a debug line lands in a
// socket. Filling the gaps with /dev/null gives the behaviour of a local program instead.
namespace k8psh {

// Opens /dev/null onto each closed descriptor 0–2: read-only for 0 (reads see EOF), write-only
// for 1 and 2 (output is discarded). Call first thing in main, before anything opens a file.
void fill_closed_standard_fds();

}  // namespace k8psh
