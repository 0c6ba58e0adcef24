// The world of one (process_group.h): a run without --nproc, launchers or peers.
#include <cstring>

#include "apps/dist/process_group.h"

namespace maskdet::dist {

namespace {

class SingleProcessGroup : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "none"; }
  void all_reduce_sum(float*, size_t, const std::string&) override {}
  void all_reduce_sum(double*, size_t, const std::string&) override {}
  void broadcast(void*, size_t, int, const std::string&) override {}
  void barrier(const std::string&) override {}
  void all_gather(const void* data, size_t bytes, void* out, const std::string&) override {
    std::memcpy(out, data, bytes);
  }
  std::unique_ptr<ProcessGroup> new_group(const std::string&) override { return std::make_unique<SingleProcessGroup>(); }
};

}  // namespace

std::unique_ptr<ProcessGroup> make_single_process_group() { return std::make_unique<SingleProcessGroup>(); }

}  // namespace maskdet::dist
