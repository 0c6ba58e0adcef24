// Keeping outputs off the inputs, and output folders free of dead writers' temporaries
// (output_folder.h).
#include "apps/maskdet/output_folder.h"

#include <filesystem>

#include "apps/cli/flags.h"
#include "apps/data/counted.h"
#include "tensor/atomic_file.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

// The path with every link and "." or ".." resolved, as far as it exists; as given when even
// that fails (then it is compared as spelt).
fs::path resolved(const fs::path& path) {
  std::error_code ec;
  fs::path real = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path.lexically_normal() : real;
}

}  // namespace

void refuse_out_holding_inputs(const std::string& command, const std::string& out,
                               const std::vector<std::string>& inputs) {
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return;
  const fs::path out_dir = resolved(out);
  for (const auto& input : inputs) {
    if (resolved(input).parent_path() != out_dir) continue;
    throw cli::UsageError("maskdet " + command + ": --out " + out + " holds the input " + input +
                          ", and the outputs, named after their inputs, would be written over such files; "
                          "give --out a folder of its own");
  }
}

void remove_stale_temporaries_in(const std::string& dir, std::ostream& log) {
  if (const size_t removed = remove_stale_temporaries(dir))
    log << "removed " << data::counted(removed, "temporary file") << " from " << dir
        << " that writers killed before finishing had left\n";
}

}  // namespace maskdet::app
