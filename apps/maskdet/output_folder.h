// The folders the commands write into. Detect's and debug's --out may hold none of the files
// they read: the pictures are named after their inputs, so one written there would replace its
// own input or a neighbour of it (a user's photos outlive any run of ours). And a folder a
// command writes into is first cleared of the temporaries that writers killed outright left
// there (tensor/atomic_file.h), so that they do not pile up run after run.
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace maskdet::app {

// Throws cli::UsageError "maskdet <command>: --out <out> holds the input <file> ..." when one of
// `inputs` lies directly in `out` (however either is spelt: "photos/./", a symbolic link). An
// `out` that does not exist yet holds nothing.
void refuse_out_holding_inputs(const std::string& command, const std::string& out,
                               const std::vector<std::string>& inputs);

// Removes the temporaries in `dir` whose writers no longer run, saying so on `log` when there
// were any.
void remove_stale_temporaries_in(const std::string& dir, std::ostream& log);

}  // namespace maskdet::app
