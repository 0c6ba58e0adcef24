// The folder a command writes its pictures into (detect's and debug's --out) may hold none of
// the files it reads: the pictures are named after their inputs, so one written there would
// replace its own input or a neighbour of it. A user's photos outlive any run of ours.
#pragma once
#include <string>
#include <vector>

namespace maskdet::app {

// Throws cli::UsageError "maskdet <command>: --out <out> holds the input <file> ..." when one of
// `inputs` lies directly in `out` (however either is spelt: "photos/./", a symbolic link). An
// `out` that does not exist yet holds nothing.
void refuse_out_holding_inputs(const std::string& command, const std::string& out,
                               const std::vector<std::string>& inputs);

}  // namespace maskdet::app
