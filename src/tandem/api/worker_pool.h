// A fixed set of threads that run queued tasks in order of arrival. The handlers that block
// (reads, staff writes) run here, so the I/O threads never wait. At most `queued_max` tasks wait;
// past that a task is refused (the caller answers 503), so the queue never grows without bound.
// The destructor runs what is still queued, then joins.
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
  WorkerPool(int threads, size_t queued_max);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` and returns true, or returns false when `queued_max` tasks are waiting
  // already; `task` is then left as it was.
  [[nodiscard]] bool TrySubmit(std::function<void()>& task);

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
