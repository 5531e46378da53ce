// Working-directory mapping (README: Working directory): relative to the base on the client, under the base on
// the server, and never outside it.
#include "workdir.h"

#include <gtest/gtest.h>

#include <functional>

namespace k8psh {
namespace {

std::string error_of(const std::function<void()> &call) {
    try {
        call();
    } catch (const WorkdirError &error) {
        return error.what();
    }
    return "(no error)";
}

TEST(RelativeWorkdir, BaseItselfIsEmpty) {
    EXPECT_EQ(relative_workdir("/ws", "/ws"), "");
    EXPECT_EQ(relative_workdir("/ws/", "/ws"), "");
    EXPECT_EQ(relative_workdir("/ws", "/ws/"), "");
    EXPECT_EQ(relative_workdir("/", "/"), "");
}

TEST(RelativeWorkdir, Nested) {
    EXPECT_EQ(relative_workdir("/ws", "/ws/a"), "a");
    EXPECT_EQ(relative_workdir("/ws", "/ws/a/b/c"), "a/b/c");
    EXPECT_EQ(relative_workdir("/ws//", "/ws/a//b/"), "a/b");
    EXPECT_EQ(relative_workdir("/ws/./x/..", "/ws/a"), "a");
    EXPECT_EQ(relative_workdir("/", "/usr/src"), "usr/src");
}

TEST(RelativeWorkdir, OutsideNamesBothPaths) {
    const std::string message = error_of([] { relative_workdir("/ws/project", "/tmp/build"); });
    EXPECT_NE(message.find("/tmp/build"), std::string::npos) << message;
    EXPECT_NE(message.find("/ws/project"), std::string::npos) << message;
    EXPECT_THROW(relative_workdir("/ws", "/ws2"), WorkdirError);  // a prefix is not a parent
    EXPECT_THROW(relative_workdir("/ws/a", "/ws"), WorkdirError);
    EXPECT_THROW(relative_workdir("/ws", "/ws/../etc"), WorkdirError);
}

TEST(RelativeWorkdir, BothMustBeAbsolute) {
    EXPECT_THROW(relative_workdir("ws", "/ws"), WorkdirError);
    EXPECT_THROW(relative_workdir("/ws", "ws/a"), WorkdirError);
    EXPECT_THROW(relative_workdir("", ""), WorkdirError);
}

TEST(MapWorkdir, UnderTheBase) {
    EXPECT_EQ(map_workdir("/srv/ws", ""), "/srv/ws");
    EXPECT_EQ(map_workdir("/srv/ws/", ""), "/srv/ws");
    EXPECT_EQ(map_workdir("/srv/ws", "a/b"), "/srv/ws/a/b");
    EXPECT_EQ(map_workdir("/srv/ws/", "./a//b/"), "/srv/ws/a/b");
    EXPECT_EQ(map_workdir("/", "a"), "/a");
    EXPECT_EQ(map_workdir("/", ""), "/");
    EXPECT_EQ(map_workdir("/srv/ws", "a..b/..c"), "/srv/ws/a..b/..c");
}

TEST(MapWorkdir, RejectsAbsoluteAndEscaping) {
    EXPECT_THROW(map_workdir("/srv/ws", "/etc"), WorkdirError);
    EXPECT_THROW(map_workdir("/srv/ws", ".."), WorkdirError);
    EXPECT_THROW(map_workdir("/srv/ws", "a/../../etc"), WorkdirError);
    EXPECT_THROW(map_workdir("/srv/ws", "a/.."), WorkdirError);
    EXPECT_THROW(map_workdir("/srv/ws", std::string("a\0b", 3)), WorkdirError);
    const std::string message = error_of([] { map_workdir("/srv/ws", "../x"); });
    EXPECT_NE(message.find("../x"), std::string::npos) << message;
    EXPECT_NE(message.find("/srv/ws"), std::string::npos) << message;
}

TEST(MapWorkdir, RoundTripFromClientToServer) {
    EXPECT_EQ(map_workdir("/server/ws", relative_workdir("/client/ws", "/client/ws/src/lib")), "/server/ws/src/lib");
    EXPECT_EQ(map_workdir("/server/ws", relative_workdir("/client/ws", "/client/ws")), "/server/ws");
}

}  // namespace
}  // namespace k8psh
