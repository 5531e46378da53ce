// Lexical only: the client and the server see the shared directory under different mount
// points, so nothing here may touch the file system of the side that computes it.
#include "workdir.h"

#include <utility>
#include <vector>

namespace k8psh {
namespace {

// The non-empty, non-`.` components of a path, in order, `..` kept as written.
std::vector<std::string> split_path(const std::string &path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) {
            end = path.size();
        }
        std::string part = path.substr(start, end - start);
        if (!part.empty() && part != ".") {
            parts.push_back(std::move(part));
        }
        start = end + 1;
    }
    return parts;
}

// The components of an absolute path with `..` applied.
std::vector<std::string> components(const std::string &path) {
    std::vector<std::string> parts;
    for (auto &part : split_path(path)) {
        if (part != "..") {
            parts.push_back(std::move(part));
        } else if (!parts.empty()) {
            parts.pop_back();
        }
    }
    return parts;
}

std::string join(const std::vector<std::string> &parts, size_t from) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i) {
        if (!out.empty()) {
            out += '/';
        }
        out += parts[i];
    }
    return out;
}

std::string without_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    return path;
}

}  // namespace

std::string relative_workdir(const std::string &base, const std::string &cwd) {
    if (base.empty() || base[0] != '/' || cwd.empty() || cwd[0] != '/') {
        throw WorkdirError("cannot relate working directory \"" + cwd + "\" to baseDirectory \"" + base +
                           "\": both must be absolute");
    }
    const std::vector<std::string> base_parts = components(base);
    const std::vector<std::string> cwd_parts = components(cwd);
    bool inside = cwd_parts.size() >= base_parts.size();
    for (size_t i = 0; inside && i < base_parts.size(); ++i) {
        inside = cwd_parts[i] == base_parts[i];
    }
    if (!inside) {
        // Never a silent fallback to the base: the command would run in the wrong directory.
        throw WorkdirError("working directory \"" + cwd + "\" is outside baseDirectory \"" + base + "\"");
    }
    return join(cwd_parts, base_parts.size());
}

std::string map_workdir(const std::string &base, const std::string &relative) {
    // The relative path comes from the client: it must not leave the server's base.
    if (!relative.empty() && relative[0] == '/') {
        throw WorkdirError("working directory \"" + relative + "\" must be relative to baseDirectory \"" + base + "\"");
    }
    if (relative.find('\0') != std::string::npos) {
        throw WorkdirError("working directory contains a NUL byte");
    }
    const std::vector<std::string> parts = split_path(relative);
    for (const auto &part : parts) {
        // relative_workdir never produces `..`, so one can only be an attempt to climb out.
        if (part == "..") {
            throw WorkdirError("working directory \"" + relative + "\" escapes baseDirectory \"" + base + "\"");
        }
    }
    std::string root = without_trailing_slashes(base);
    if (parts.empty()) {
        return root;
    }
    return (root == "/" ? root : root + "/") + join(parts, 0);
}

}  // namespace k8psh
