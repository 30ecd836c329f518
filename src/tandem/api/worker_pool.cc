#include "tandem/api/worker_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tandem/base/check.h"

namespace tandem::api {

WorkerPool::WorkerPool(int threads, size_t queued_max, const char* name, int nice)
    : queued_max_(queued_max) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, name, nice] {
      pthread_setname_np(pthread_self(), name);
      // On Linux a nice value belongs to a thread; raising it needs no privilege.
      if (nice != 0 && setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
        TANDEM_UNEXPECTED((std::string("setpriority: ") + std::strerror(errno)).c_str());
      }
      Loop();
    });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkerPool::TrySubmit(std::function<void()>& task) {
  {
    std::lock_guard lock(mu_);
    if (tasks_.size() >= queued_max_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace tandem::api
