// A fixed set of threads that run queued tasks in order of arrival. The handlers that block
// (reads, staff writes) run here, so the I/O threads never wait. At most `queued_max` tasks wait;
// past that a task is refused (the caller answers 503), so the queue never grows without bound.
// The destructor runs what is still queued, then joins. Api has two: the workers, and the
// password-hashing lane (logins and sign-ups: few threads, a short queue, a lower CPU priority).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem::api {

class WorkerPool {
 public:
  // `name`: the threads' name (top -H, /proc); `nice`: their nice value (0: as the process).
  WorkerPool(int threads, size_t queued_max, const char* name = "tandem-worker", int nice = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` and returns true, or returns false when `queued_max` tasks are waiting
  // already; `task` is then left as it was.
  [[nodiscard]] bool TrySubmit(std::function<void()>& task);
  int threads() const { return static_cast<int>(threads_.size()); }
  size_t queued_max() const { return queued_max_; }

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  const size_t queued_max_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tandem::api
