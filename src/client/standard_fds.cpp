#include "standard_fds.h"

#include "sys.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace k8psh {

void fill_closed_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) {
            continue;
        }
        // Lower descriptors are open by now, so open() returns exactly this one; the check
        // only guards against a surprise, never leaving a stray descriptor behind.
        int opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (opened >= 0 && opened != fd) {
            dup2(opened, fd);
            close_fd(opened);
        }
    }
}

}  // namespace k8psh
