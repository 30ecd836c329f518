// A test's hold on a database's writer: a write that runs until Release(), so that the writes
// submitted meanwhile wait together (and, on an engine with one writer, run in one batch). Its
// state is shared with the held write, which may run again or still be waking up after the test
// ends. Used by one test thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "tandem/storage/database.h"

namespace tandem::testing {

class HeldWrite {
 public:
  // Submits the held write and waits until it runs: without end, or at most `wait_at_most` (an
  // engine with several connections may never block on it; the writes submitted next are still
  // submitted together). `done` gets its outcome after Release().
  explicit HeldWrite(storage::Database& db, storage::WriteDone done = [](Status) {},
                     std::optional<std::chrono::milliseconds> wait_at_most = std::nullopt)
      : gate_(std::make_shared<Gate>()) {
    db.WriteAsync(
        [gate = gate_](storage::Tx&) {
          std::unique_lock lock(gate->mu);
          gate->started = true;
          gate->cv.notify_all();
          gate->cv.wait(lock, [&] { return gate->released; });
          return Status::Ok();
        },
        std::move(done));
    std::unique_lock lock(gate_->mu);
    auto started = [&] { return gate_->started; };
    if (wait_at_most) {
      gate_->cv.wait_for(lock, *wait_at_most, started);
    } else {
      gate_->cv.wait(lock, started);
    }
  }
  ~HeldWrite() { Release(); }
  HeldWrite(const HeldWrite&) = delete;
  HeldWrite& operator=(const HeldWrite&) = delete;

  void Release() {
    {
      std::lock_guard lock(gate_->mu);
      gate_->released = true;
    }
    gate_->cv.notify_all();
  }

 private:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false;
    bool released = false;
  };
  std::shared_ptr<Gate> gate_;
};

}  // namespace tandem::testing
