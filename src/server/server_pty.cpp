#include "server_pty.h"

#include "sys.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace k8psh {
namespace {

winsize to_winsize(const WindowSize &size) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(size.columns > 0 ? size.columns : 80);
    ws.ws_row = static_cast<unsigned short>(size.rows > 0 ? size.rows : 24);
    ws.ws_xpixel = static_cast<unsigned short>(size.width_px);
    ws.ws_ypixel = static_cast<unsigned short>(size.height_px);
    return ws;
}

}  // namespace

Pty::~Pty() {
    close_slave();
    close_master();
}

bool Pty::open(const WindowSize &size) {
    winsize ws = to_winsize(size);
    char name[128] = {0};
    if (openpty(&master_, &slave_, name, nullptr, &ws) != 0) {
        return false;
    }
    slave_path_ = name;
    fcntl(master_, F_SETFD, FD_CLOEXEC);
    fcntl(slave_, F_SETFD, FD_CLOEXEC);
    fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
    return true;
}

void Pty::resize(const WindowSize &size) const {
    if (master_ >= 0) {
        winsize ws = to_winsize(size);
        ioctl(master_, TIOCSWINSZ, &ws);
    }
}

void Pty::close_slave() {
    close_fd(slave_);
}

void Pty::close_master() {
    close_fd(master_);
}

}  // namespace k8psh
