#pragma once
// The descriptors and deadlines of one poll, gathered from a connection and each of its channels
// afresh on every turn of the connection's loop.
#include "sys.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <optional>
#include <poll.h>
#include <vector>

namespace k8psh::server_detail {

class PollSet {
public:
    void clear() {
        fds_.clear();
        deadline_.reset();
    }
    // The entry's index, or -1 when there is nothing to wait for (no descriptor or no events),
    // which fired() then never reports.
    int add(int fd, short events) {
        if (fd < 0 || events == 0) {
            return -1;
        }
        fds_.push_back(pollfd{fd, events, 0});
        return static_cast<int>(fds_.size() - 1);
    }
    bool fired(int index) const { return index >= 0 && fds_[static_cast<std::size_t>(index)].revents != 0; }
    // Wake up by `when` at the latest.
    void deadline(Clock::time_point when) { deadline_ = deadline_ ? std::min(*deadline_, when) : when; }

    // poll(2) on everything added; false on a real error (not EINTR).
    bool wait() {
        int timeout = -1;
        if (deadline_) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - Clock::now()).count();
            // Rounded up, and capped to poll's int: waking early would only turn the loop once more.
            timeout = left < 0 ? 0 : static_cast<int>(std::min<long long>(left, INT_MAX - 1)) + 1;
        }
        return poll(fds_.data(), static_cast<nfds_t>(fds_.size()), timeout) >= 0 || errno == EINTR;
    }

private:
    std::vector<pollfd> fds_;
    std::optional<Clock::time_point> deadline_;
};

}  // namespace k8psh::server_detail
