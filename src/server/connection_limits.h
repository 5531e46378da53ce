#pragma once
// What the server's connections may hold at once: slots for connections that have not
// authenticated yet (--max-startups) and for running commands (--max-sessions). Shared by the
// listener and the session threads, so every member locks.
#include "sys.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

namespace k8psh {

// Unauthenticated connections, oldest first. A cap alone would let N idle connections hold every
// slot for the whole login grace; so once all slots are taken, the oldest holder that has kept
// the server waiting for its fair share of time (nothing received from it, nothing of it left
// unread) is cut to make room. A handshake in progress sends something every round trip, so a
// burst of real clients only waits in the listen backlog, even on a loaded machine.
class StartupSlots {
public:
    static constexpr std::chrono::milliseconds kFairShare{1000};

    // limit < 0: no limit. `wake_fd` (an eventfd) is written when a full set frees a slot.
    StartupSlots(long limit, int wake_fd) : limit_(limit), wake_fd_(wake_fd) {}

    // -1 when a connection may be accepted now (after cutting an idle holder), else the
    // milliseconds after which to look again.
    int make_room();
    // The accepted connection on `fd` takes a slot. Returns its ticket for release(), or 0 when
    // it cannot be watched (no descriptor left): then it must be closed.
    std::uint64_t admit(int fd);
    // The connection has authenticated or ended: it leaves its slot. Idempotent.
    void release(std::uint64_t ticket);
    // Shutdown: cut every connection still in a slot, so none keeps the server in a handshake.
    void cut_all();

private:
    // A duplicate of the connection's socket, closed only when the holder leaves: cutting it
    // always reaches that connection, even after libssh has closed its own descriptor and the
    // number was reused.
    struct Holder {
        std::uint64_t ticket;
        UniqueFd fd;
        Clock::time_point since;
    };

    std::mutex mutex_;
    const long limit_;
    const int wake_fd_;
    std::deque<Holder> holders_;
    std::uint64_t last_ticket_ = 0;
};

// Commands running at once; more wait in arrival order. A waiter learns through its eventfd that
// a slot has been handed to it.
class CommandSlots {
public:
    struct Ticket {
        enum class State { None, Waiting, Holding } state = State::None;
        int wake_fd = -1;  // the waiter's eventfd, owned by the waiter
    };

    explicit CommandSlots(long limit) : limit_(limit) {}

    // True when the ticket holds a slot now; false: it waits in line (needs its wake_fd).
    bool take_or_wait(Ticket &ticket);
    // After the wake fd fired: true when the slot is the ticket's now.
    bool holds(Ticket &ticket);
    // Gives a held slot to the next waiter (or back), or leaves the line.
    void give_back(Ticket &ticket);

private:
    std::mutex mutex_;
    const long limit_;
    long running_ = 0;
    std::deque<Ticket *> waiting_;
};

}  // namespace k8psh
