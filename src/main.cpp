#include <libssh/libssh.h>
#include <cstdio>
int main() { ssh_init(); std::puts(ssh_version(0)); return 0; }
