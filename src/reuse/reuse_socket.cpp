#include "reuse_socket.h"

#include "sys.h"
#include "wire.h"

#include <sodium.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace k8psh {
namespace {

constexpr char kMagic[2] = {'K', '1'};
constexpr std::size_t kHeaderBytes = 8;
// Argv pieces and the allowed environment together; anything bigger is not from a stub.
constexpr std::size_t kMaxPayloadBytes = 2 * wire::kMaxExecBytes + (1u << 20);

void put_u32(std::string &out, std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
}

std::uint32_t get_u32(const char *p) {
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) {
        value = (value << 8) | static_cast<unsigned char>(p[i]);
    }
    return value;
}

void put_string(std::string &out, const std::string &text) {
    put_u32(out, static_cast<std::uint32_t>(text.size()));
    out += text;
}

// Reads a length-prefixed string at `offset`, advancing it; false when it would run past the end.
bool get_string(const std::string &in, std::size_t &offset, std::string &text) {
    if (in.size() - offset < 4) {
        return false;
    }
    std::uint32_t size = get_u32(in.data() + offset);
    offset += 4;
    if (in.size() - offset < size) {
        return false;
    }
    text.assign(in, offset, size);
    offset += size;
    return true;
}

// The one message both ends exchange first: the header's bytes with the stub's three descriptors
// beside them (SCM_RIGHTS). Not copyable: the message points into itself.
struct FdMessage {
    FdMessage(char *data, std::size_t size) : iov{data, size} {
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage &) = delete;
    FdMessage &operator=(const FdMessage &) = delete;

    iovec iov;
    alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
    msghdr message{};
};

}  // namespace

std::optional<ReuseEndpoint> reuse_endpoint(const std::string &identity) {
    const char *tmp = std::getenv("TMPDIR");
    std::string base = tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp";
    while (base.size() > 1 && base.back() == '/') {
        base.pop_back();
    }
    unsigned char hash[12];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char *>(identity.data()), identity.size(),
                       nullptr, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);

    ReuseEndpoint endpoint;
    endpoint.directory = base + "/k8psh-" + std::to_string(geteuid());
    endpoint.name = hex;
    endpoint.socket = endpoint.directory + "/" + endpoint.name + ".sock";
    endpoint.lock = endpoint.name + ".lock";
    endpoint.log = endpoint.name + ".sock.log";
    if (endpoint.socket.size() >= sizeof(sockaddr_un::sun_path)) {
        return std::nullopt;
    }
    return endpoint;
}

bool send_reuse_request(int socket, const WireRequest &request, const int fds[3]) {
    std::string payload;
    put_u32(payload, static_cast<std::uint32_t>(request.env.size()));
    for (const auto &[name, value] : request.env) {
        put_string(payload, name);
        put_string(payload, value);
    }
    put_string(payload, request.exec);
    put_u32(payload, request.tty ? 1 : 0);
    put_string(payload, request.term);
    put_u32(payload, static_cast<std::uint32_t>(request.size.columns));
    put_u32(payload, static_cast<std::uint32_t>(request.size.rows));

    std::string header(kMagic, sizeof kMagic);
    header.append(2, '\0');
    put_u32(header, static_cast<std::uint32_t>(payload.size()));
    FdMessage out(header.data(), header.size());
    cmsghdr *cmsg = CMSG_FIRSTHDR(&out.message);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(3 * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), fds, 3 * sizeof(int));
    ssize_t sent;
    do {
        sent = sendmsg(socket, &out.message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent <= 0) {
        return false;
    }
    // The fds went with the first byte; the rest of the header and the payload follow plainly.
    return send_all(socket, header.data() + sent, header.size() - static_cast<std::size_t>(sent)) &&
           send_all(socket, payload.data(), payload.size());
}

std::optional<WireRequest> receive_reuse_request(int socket, int fds[3]) {
    fds[0] = fds[1] = fds[2] = -1;
    char header[kHeaderBytes];
    FdMessage in(header, sizeof header);
    ssize_t got;
    do {
        got = recvmsg(socket, &in.message, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    bool have_fds = false;
    for (cmsghdr *cmsg = CMSG_FIRSTHDR(&in.message); cmsg != nullptr; cmsg = CMSG_NXTHDR(&in.message, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        // Every descriptor that arrived is ours to close, however many a peer sent (the control
        // buffer's padding has room for a fourth).
        const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const bool take = count == 3 && !have_fds;
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof fd);
            if (take) {
                fds[i] = fd;
            } else {
                close_fd(fd);
            }
        }
        have_fds = have_fds || take;
    }
    auto reject = [&]() -> std::optional<WireRequest> {
        for (int i = 0; i < 3; ++i) {
            close_fd(fds[i]);
        }
        return std::nullopt;
    };
    if (got <= 0 || !have_fds || (in.message.msg_flags & MSG_CTRUNC) != 0 ||
        !read_all(socket, header + got, sizeof header - static_cast<std::size_t>(got)) ||
        std::memcmp(header, kMagic, sizeof kMagic) != 0) {
        return reject();
    }
    std::size_t size = get_u32(header + 4);
    if (size > kMaxPayloadBytes) {
        return reject();
    }
    std::string payload(size, '\0');
    if (!read_all(socket, payload.data(), size)) {
        return reject();
    }
    WireRequest request;
    std::size_t offset = 0;
    if (payload.size() < 4) {
        return reject();
    }
    std::uint32_t count = get_u32(payload.data());
    offset = 4;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string name;
        std::string value;
        if (!get_string(payload, offset, name) || !get_string(payload, offset, value)) {
            return reject();
        }
        request.env.emplace_back(std::move(name), std::move(value));
    }
    if (!get_string(payload, offset, request.exec) || payload.size() - offset < 4) {
        return reject();
    }
    request.tty = get_u32(payload.data() + offset) == 1;
    offset += 4;
    // A window size is a u16 on the wire (RFC 4254 uses u32, terminals do not get that big).
    if (!get_string(payload, offset, request.term) || payload.size() - offset != 8) {
        return reject();
    }
    request.size.columns = static_cast<int>(get_u32(payload.data() + offset) & 0xffffu);
    request.size.rows = static_cast<int>(get_u32(payload.data() + offset + 4) & 0xffffu);
    return request;
}

std::string encode_result(int code, const std::string &error) {
    std::string out(1, kResult);
    put_u32(out, static_cast<std::uint32_t>(code));
    put_string(out, error);
    return out;
}

std::optional<RunOutcome> decode_result(const std::string &bytes) {
    if (bytes.size() < 9 || bytes[0] != kResult) {
        return std::nullopt;
    }
    RunOutcome outcome;
    outcome.code = static_cast<int>(get_u32(bytes.data() + 1));
    std::size_t offset = 5;
    if (!get_string(bytes, offset, outcome.error)) {
        return std::nullopt;
    }
    return outcome;
}

}  // namespace k8psh
