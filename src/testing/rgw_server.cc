#include "testing/rgw_server.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <utility>
#include <vector>

namespace tessera::test {
namespace {

#ifndef TESSERA_SOURCE_DIR
#define TESSERA_SOURCE_DIR "."
#endif

std::string g_dir;  // the running cluster's state directory, "" if none

void StopAtExit() {
  if (g_dir.empty()) return;
  const std::string command =
      "bash '" TESSERA_SOURCE_DIR "/scripts/rgw.sh' stop '" + g_dir + "' >/dev/null 2>&1";
  (void)std::system(command.c_str());
  g_dir.clear();
}

// Run `command`, returning its exit status and stdout+stderr.
int RunCapture(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output->append(buffer.data(), n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Read scripts/rgw.sh's env file and export its variables into the environment.
Result<RgwEndpoint> ReadEnvFile(const std::string& path) {
  RgwEndpoint endpoint;
  std::ifstream env(path);
  std::string line;
  std::vector<std::pair<std::string, std::string>> variables;
  while (std::getline(env, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    variables.emplace_back(name, value);
    if (name == "AWS_ENDPOINT_URL") endpoint.endpoint = value;
    if (name == "AWS_ACCESS_KEY_ID") endpoint.access_key_id = value;
    if (name == "AWS_SECRET_ACCESS_KEY") endpoint.secret_access_key = value;
    if (name == "AWS_REGION") endpoint.region = value;
  }
  if (endpoint.endpoint.empty()) return Status::IOError("no gateway endpoint in ", path, ": ");
  for (const auto& [name, value] : variables) setenv(name.c_str(), value.c_str(), 1);
  return endpoint;
}

// Return true if an HTTP server answers at `endpoint` within a few seconds.
bool Answers(const std::string& endpoint) {
  std::string output;
  return RunCapture("curl -s -o /dev/null --max-time 5 '" + endpoint + "/'", &output) == 0;
}

}  // namespace

bool RgwServer::Installed() {
  for (const char* tool : {"/usr/bin/radosgw", "/usr/bin/ceph-mon", "/usr/bin/ceph-osd"}) {
    if (access(tool, X_OK) != 0) return false;
  }
  return true;
}

Result<RgwEndpoint> RgwServer::Get() {
  static std::mutex mu;
  static Result<RgwEndpoint>* started = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (started != nullptr) return *started;
  if (!Installed()) {
    return Status::NotSupported(
        "Ceph RADOS Gateway not installed (apt-get install ceph-mon ceph-osd radosgw "
        "ceph-common, or scripts/install_deps.sh)");
  }
  // Under ctest, the "rgw" fixture has started one gateway for every test process of the run
  // (scripts/rgw.sh shared); use it when it answers.
  if (const char* shared = std::getenv("TESSERA_TEST_RGW_DIR"); shared != nullptr) {
    Result<RgwEndpoint> endpoint = ReadEnvFile(std::string(shared) + "/env");
    if (endpoint.ok() && Answers(endpoint->endpoint)) {
      started = new Result<RgwEndpoint>(*endpoint);
      return *started;
    }
  }
  // Start-up occasionally fails when several clusters start at once (ctest -j runs one per
  // test process): try again in a fresh directory.
  std::string output;
  int rc = -1;
  for (int attempt = 0; attempt < 3 && rc != 0; ++attempt) {
    if (!g_dir.empty()) StopAtExit();
    char templ[] = "/tmp/tessera-rgw-XXXXXX";
    if (mkdtemp(templ) == nullptr) return Status::IOError("mkdtemp failed");
    g_dir = templ;
    if (attempt == 0) std::atexit(&StopAtExit);
    output.clear();
    rc = RunCapture("bash '" TESSERA_SOURCE_DIR "/scripts/rgw.sh' start '" + g_dir + "'", &output);
  }
  if (rc != 0) {
    started = new Result<RgwEndpoint>(
        Status::IOError("scripts/rgw.sh start failed 3 times (exit ", rc, "): ", output));
    return *started;
  }
  Result<RgwEndpoint> endpoint = ReadEnvFile(g_dir + "/env");
  started = new Result<RgwEndpoint>(
      endpoint.ok() ? std::move(endpoint)
                    : Result<RgwEndpoint>(Status::IOError(endpoint.status().message(), output)));
  return *started;
}

}  // namespace tessera::test
