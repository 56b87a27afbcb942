#include "base/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace tessera::base {

Result<std::string> SelfExecutable() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return Status::IOError("cannot resolve /proc/self/exe");
  return std::string(path, static_cast<size_t>(n));
}

Result<Subprocess> Spawn(const std::string& program, const std::vector<std::string>& args,
                         const std::string& log) {
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create '", log, "'");
  // Everything the child must see is prepared before fork: after it only async-signal-safe
  // calls are allowed (the parent may have other threads).
  std::vector<char*> argv = {const_cast<char*>(program.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return Status::IOError("fork failed");
  }
  if (pid == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(fd);
  return Subprocess{pid, log};
}

namespace {

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

bool StillRunning(Subprocess* child, std::string* how) {
  if (child->pid < 0) return false;
  int status = 0;
  const pid_t done = waitpid(child->pid, &status, WNOHANG);
  if (done == 0) return true;
  *how = done < 0 ? "is gone" : Describe(status);
  child->pid = -1;
  return false;
}

int Terminate(Subprocess* child, double grace_seconds) {
  if (child->pid < 0) return -1;
  kill(child->pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(grace_seconds));
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(child->pid, &status, WNOHANG) != 0) {
      child->pid = -1;
      return ExitCode(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(child->pid, SIGKILL);
  waitpid(child->pid, &status, 0);
  child->pid = -1;
  return ExitCode(status);
}

std::string LastLineOf(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace tessera::base
