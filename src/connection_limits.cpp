#include "connection_limits.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace k8psh {
namespace {

// Wakes the thread blocked on the socket (in the key exchange or its poll): it sees the end of
// the connection and ends the session itself, so nothing is freed under its owner.
void cut(int fd) { shutdown(fd, SHUT_RDWR); }

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
    auto age = Clock::now() - holders_.front().since;
    if (age < kFairShare) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kFairShare - age).count();
        return static_cast<int>(std::max<long>(left, 1));
    }
    cut(holders_.front().fd);
    drop_front();
    return -1;
}

void StartupSlots::drop_front() {
    close(holders_.front().fd);
    holders_.pop_front();
}

std::uint64_t StartupSlots::admit(int fd) {
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
        return 0;
    }
    std::lock_guard lock(mutex_);
    holders_.push_back({++last_ticket_, own, Clock::now()});
    return last_ticket_;
}

void StartupSlots::release(std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(holders_.begin(), holders_.end(), [ticket](const Holder &h) { return h.ticket == ticket; });
    if (it == holders_.end()) {
        return;
    }
    bool was_full = limit_ >= 0 && static_cast<long>(holders_.size()) >= limit_;
    close(it->fd);
    holders_.erase(it);
    if (was_full) {
        signal_eventfd(wake_fd_);  // the listener may have stopped accepting: it may go on now
    }
}

void StartupSlots::cut_all() {
    std::lock_guard lock(mutex_);
    while (!holders_.empty()) {
        cut(holders_.front().fd);
        drop_front();
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
