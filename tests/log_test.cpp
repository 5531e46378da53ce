// K8PSH_DEBUG as a user writes it (README: Debugging a pod): component lists with either
// separator and any case, `All`, and upstream's names mapped to the nearest components here;
// and the stderr lines themselves, captured from the real file descriptor.
#include "log.h"

#include "sys.h"
#include "temp_dir.h"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <unistd.h>

namespace k8psh {
namespace {

// Sets or clears K8PSH_DEBUG and runs log::init; afterwards puts the variable back and
// initialises again, so no other test sees debug output switched on.
class DebugVariable {
public:
    explicit DebugVariable(const char *value) {
        if (const char *old = std::getenv("K8PSH_DEBUG"); old != nullptr) {
            saved_ = old;
        }
        set(value);
        log::init("test");
    }
    ~DebugVariable() {
        set(saved_ ? saved_->c_str() : nullptr);
        log::init("test");
    }
    DebugVariable(const DebugVariable &) = delete;
    DebugVariable &operator=(const DebugVariable &) = delete;

    static void set(const char *value) { value != nullptr ? setenv("K8PSH_DEBUG", value, 1) : unsetenv("K8PSH_DEBUG"); }

private:
    std::optional<std::string> saved_;
};

const char *const kComponents[] = {"client", "server", "reuse", "config"};

// The components debug_enabled says yes to, as "client,server,…" in kComponents order.
std::string enabled() {
    std::string names;
    for (const char *component : kComponents) {
        if (log::debug_enabled(component)) {
            names += names.empty() ? "" : ",";
            names += component;
        }
    }
    return names;
}

TEST(Log, QuietWithoutTheVariable) {
    DebugVariable debug(nullptr);
    EXPECT_EQ(enabled(), "");
    EXPECT_FALSE(spdlog::should_log(spdlog::level::debug));
    EXPECT_TRUE(spdlog::should_log(spdlog::level::info));
}

TEST(Log, EmptyVariableIsQuiet) {
    DebugVariable debug("");
    EXPECT_EQ(enabled(), "");
    EXPECT_FALSE(spdlog::should_log(spdlog::level::debug));
}

TEST(Log, AListNamesItsComponents) {
    DebugVariable debug("server,client");
    EXPECT_EQ(enabled(), "client,server");
    EXPECT_TRUE(spdlog::should_log(spdlog::level::debug));
}

TEST(Log, SemicolonsSpacesAndCaseAreAccepted) {
    DebugVariable debug(" Reuse ; CONFIG ");
    EXPECT_EQ(enabled(), "reuse,config");
    EXPECT_TRUE(log::debug_enabled("Config"));
}

TEST(Log, AllEnablesEveryComponent) {
    for (const char *value : {"All", "all", "ALL", "server,All"}) {
        DebugVariable debug(value);
        EXPECT_EQ(enabled(), "client,server,reuse,config") << value;
        EXPECT_TRUE(log::debug_enabled("anything")) << value;
    }
}

TEST(Log, UnknownNamesEnableNothingElse) {
    DebugVariable debug("nonsense,,");
    EXPECT_EQ(enabled(), "");
}

TEST(Log, UpstreamNamesTurnOnTheNearestComponents) {
    const struct {
        const char *value;
        const char *expected;
    } cases[] = {
        {"Main", "client,server"},
        {"K8psh", "client,server"},
        {"Process", "client,server"},
        {"Socket", "client,server,reuse"},
        {"Configuration", "config"},
        {"Utilities", "config"},
        {"Process,Utilities", "client,server,config"},
    };
    for (const auto &c : cases) {
        DebugVariable debug(c.value);
        EXPECT_EQ(enabled(), c.expected) << c.value;
    }
}

// The variable is read by init, once: a process started with it keeps its choice.
TEST(Log, TheVariableIsReadAtInit) {
    DebugVariable debug("client");
    DebugVariable::set("server");
    EXPECT_EQ(enabled(), "client");
    log::init("test");
    EXPECT_EQ(enabled(), "server");
}

// Everything written to stderr (fd 2) while `body` runs.
template <typename Body>
std::string capture_stderr(Body body) {
    test::TempDir dir;
    const std::string path = dir / "stderr";
    std::fflush(stderr);
    const UniqueFd saved(dup(STDERR_FILENO));
    {
        const UniqueFd file(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        dup2(file.get(), STDERR_FILENO);
    }
    body();
    spdlog::default_logger()->flush();
    std::fflush(stderr);
    dup2(saved.get(), STDERR_FILENO);
    return test::read_file(path);
}

TEST(Log, LinesArePrefixedWithTheFace) {
    DebugVariable debug(nullptr);
    log::init("k8pshd");
    const std::string text = capture_stderr([] {
        spdlog::warn("a warning");
        K8PSH_DEBUG_LOG("server", "hidden {}", 1);
    });
    EXPECT_EQ(text, "k8pshd: a warning\n");
}

TEST(Log, DebugLinesAppearOnlyForEnabledComponents) {
    DebugVariable debug("server");
    log::init("k8pshd");
    const std::string text = capture_stderr([] {
        K8PSH_DEBUG_LOG("server", "shown {}", 1);
        K8PSH_DEBUG_LOG("client", "hidden {}", 2);
    });
    EXPECT_NE(text.find("k8pshd[" + std::to_string(getpid()) + "]: [server] shown 1\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("hidden"), std::string::npos) << text;
}

}  // namespace
}  // namespace k8psh
