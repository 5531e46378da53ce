#include "connection_limits.h"

#include <algorithm>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace k8psh {
namespace {

// Wakes the thread blocked on the socket (in the key exchange or its poll): it sees the end of
// the connection and ends the session itself, so nothing is freed under its owner.
void cut(int fd) {
    shutdown(fd, SHUT_RDWR);
}

// How long the peer has kept us waiting: the time since it last sent anything, or 0 while bytes it
// sent are still unread (then the server is the slow side, under load, and the client is not to
// blame). A handshake in progress keeps resetting this; a silent or stalled peer lets it grow.
std::chrono::milliseconds idle_for(int fd) {
    int unread = 0;
    tcp_info info{};
    socklen_t length = sizeof info;
    if (ioctl(fd, SIOCINQ, &unread) != 0 || unread > 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::milliseconds(info.tcpi_last_data_recv);
}

void signal_eventfd(int fd) {
    std::uint64_t one = 1;
    (void)!write(fd, &one, sizeof one);
}

}  // namespace

int StartupSlots::make_room() {
    std::lock_guard lock(mutex_);
    if (limit_ < 0 || static_cast<long>(holders_.size()) < limit_) {
        return -1;
    }
    // The oldest holder that has kept us waiting for its fair share goes.
    std::chrono::milliseconds most_idle{0};
    for (auto it = holders_.begin(); it != holders_.end(); ++it) {
        auto idle = std::min(idle_for(it->fd.get()),
                             std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - it->since));
        if (idle >= kFairShare) {
            cut(it->fd.get());
            holders_.erase(it);
            return -1;
        }
        most_idle = std::max(most_idle, idle);
    }
    return static_cast<int>(std::max<long>((kFairShare - most_idle).count(), 10));
}

std::uint64_t StartupSlots::admit(int fd) {
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
        return 0;
    }
    std::lock_guard lock(mutex_);
    holders_.push_back({++last_ticket_, UniqueFd(own), Clock::now()});
    return last_ticket_;
}

void StartupSlots::release(std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(holders_.begin(), holders_.end(), [ticket](const Holder &h) { return h.ticket == ticket; });
    if (it == holders_.end()) {
        return;
    }
    bool was_full = limit_ >= 0 && static_cast<long>(holders_.size()) >= limit_;
    holders_.erase(it);
    if (was_full) {
        signal_eventfd(wake_fd_);  // the listener may have stopped accepting: it may go on now
    }
}

void StartupSlots::cut_all() {
    std::lock_guard lock(mutex_);
    while (!holders_.empty()) {
        cut(holders_.front().fd.get());
        holders_.pop_front();
    }
}

bool CommandSlots::take_or_wait(Ticket &ticket) {
    std::lock_guard lock(mutex_);
    if (limit_ < 0 || running_ < limit_) {
        ++running_;
        ticket.state = Ticket::State::Holding;
        return true;
    }
    ticket.state = Ticket::State::Waiting;
    waiting_.push_back(&ticket);
    return false;
}

bool CommandSlots::holds(Ticket &ticket) {
    std::lock_guard lock(mutex_);
    return ticket.state == Ticket::State::Holding;
}

void CommandSlots::give_back(Ticket &ticket) {
    std::lock_guard lock(mutex_);
    if (ticket.state == Ticket::State::Waiting) {
        waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &ticket));
    } else if (ticket.state == Ticket::State::Holding) {
        if (waiting_.empty()) {
            --running_;
        } else {
            // Handed over directly: a newcomer cannot overtake the line between release and wake.
            Ticket *next = waiting_.front();
            waiting_.pop_front();
            next->state = Ticket::State::Holding;
            signal_eventfd(next->wake_fd);
        }
    }
    ticket.state = Ticket::State::None;
}

}  // namespace k8psh
