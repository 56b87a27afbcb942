#include "base/subprocess.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tessera::base {
namespace {

std::string TempLog(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string(name) + "." + std::to_string(getpid()) + ".log"))
      .string();
}

TEST(SubprocessTest, OutputGoesToTheLogAndTheExitIsReported) {
  const std::string log = TempLog("subprocess_exit");
  auto child = Spawn("/bin/sh", {"-c", "echo first; echo second >&2; exit 3"}, log);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  std::string how;
  for (int i = 0; i < 500 && StillRunning(&*child, &how); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(how, "exited with status 3");
  EXPECT_EQ(child->pid, -1);
  EXPECT_EQ(LastLineOf(log), "second");
  std::remove(log.c_str());
}

TEST(SubprocessTest, TerminateStopsAChildThatIgnoresNothingAndKillsOneThatIgnoresSigterm) {
  const std::string log = TempLog("subprocess_term");
  auto polite = Spawn("/bin/sleep", {"30"}, log);
  ASSERT_TRUE(polite.ok());
  EXPECT_EQ(Terminate(&*polite, 10), 128 + 15);
  auto stubborn = Spawn("/bin/sh", {"-c", "trap '' TERM; sleep 30"}, log);
  ASSERT_TRUE(stubborn.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the trap be installed
  EXPECT_EQ(Terminate(&*stubborn, 0.2), 128 + 9);
  EXPECT_EQ(Terminate(&*stubborn, 0.2), -1);  // already reaped
  std::remove(log.c_str());
}

TEST(SubprocessTest, ErrorsNameTheProblem) {
  auto bad_log = Spawn("/bin/true", {}, "/nonexistent-dir/x.log");
  EXPECT_TRUE(bad_log.status().IsIOError());
  EXPECT_NE(bad_log.status().ToString().find("/nonexistent-dir/x.log"), std::string::npos);
  const std::string log = TempLog("subprocess_missing");
  auto missing = Spawn("/nonexistent-program", {}, log);
  ASSERT_TRUE(missing.ok());
  std::string how;
  for (int i = 0; i < 500 && StillRunning(&*missing, &how); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(how, "exited with status 127");
  EXPECT_TRUE(SelfExecutable().ok());
  std::remove(log.c_str());
}

}  // namespace
}  // namespace tessera::base
