// `tessera demo`: the README's main job.
#pragma once

#include <string>
#include <vector>

namespace tessera::cli {

/// Run the demo with the arguments after "demo". Returns the process exit code.
int RunDemo(const std::vector<std::string>& args);

}  // namespace tessera::cli
