#include "wire.h"

#include <gtest/gtest.h>

#include <string>

namespace k8psh::wire {
namespace {

// What the server rebuilds from what the client sends, in the order the requests travel.
std::string round_trip(const std::string &exec) {
    const ExecPieces pieces = split_exec(exec);
    ExecAssembler assembler;
    for (const auto &part : pieces.parts) {
        assembler.add_part(part);
    }
    EXPECT_FALSE(assembler.too_long());
    return assembler.finish(pieces.tail);
}

// Distinct bytes at every position, so a piece sent twice or out of order shows.
std::string text_of(std::size_t size) {
    std::string text(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        text[i] = static_cast<char>('a' + i % 23);
    }
    return text;
}

TEST(Wire, RoundTripKeepsEveryByteAtEverySize) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, kArgvPartBytes - 1, kArgvPartBytes, kArgvPartBytes + 1,
                             3 * kArgvPartBytes, 3 * kArgvPartBytes + 7, kMaxExecBytes}) {
        const std::string exec = text_of(size);
        EXPECT_EQ(round_trip(exec), exec) << size;
    }
}

TEST(Wire, PartsAreFullAndTheExecRequestCarriesTheRest) {
    EXPECT_TRUE(split_exec(text_of(kArgvPartBytes)).parts.empty());
    const ExecPieces pieces = split_exec(text_of(2 * kArgvPartBytes + 5));
    ASSERT_EQ(pieces.parts.size(), 2u);
    for (const auto &part : pieces.parts) {
        EXPECT_EQ(part.size(), kArgvPartBytes);
    }
    EXPECT_EQ(pieces.tail.size(), 5u);
    const ExecPieces exact = split_exec(text_of(2 * kArgvPartBytes));
    EXPECT_EQ(exact.parts.size(), 1u);
    EXPECT_EQ(exact.tail.size(), kArgvPartBytes);
}

TEST(Wire, PartsPastTheBoundAreDroppedAndMarkTheCommand) {
    ExecAssembler assembler;
    assembler.add_part(text_of(kMaxExecBytes));
    EXPECT_FALSE(assembler.too_long());
    assembler.add_part("x");
    EXPECT_TRUE(assembler.too_long());
    EXPECT_EQ(assembler.finish("tail"), text_of(kMaxExecBytes) + "tail");
}

}  // namespace
}  // namespace k8psh::wire
