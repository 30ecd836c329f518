#include "tandem/api/worker_pool.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <string>
#include <utility>
#include <functional>
#include <future>
#include <thread>

namespace tandem::api {
namespace {

// Past `queued_max` waiting tasks a task is refused and left to the caller; once the workers
// catch up, tasks are taken again, and every task taken runs.
TEST(WorkerPool, RefusesPastTheQueueBoundAndRunsEveryTaskTaken) {
  std::atomic<int> ran{0};
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  {
    WorkerPool pool(1, 2);
    std::function<void()> blocker = [&] {
      started.set_value();
      released.wait();
      ran.fetch_add(1);
    };
    ASSERT_TRUE(pool.TrySubmit(blocker));
    // The one worker is busy and the queue is empty: two tasks may wait, not a third.
    ASSERT_EQ(started.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
    std::function<void()> count = [&] { ran.fetch_add(1); };
    std::function<void()> first = count;
    std::function<void()> second = count;
    std::function<void()> third = count;
    EXPECT_TRUE(pool.TrySubmit(first));
    EXPECT_TRUE(pool.TrySubmit(second));
    EXPECT_FALSE(pool.TrySubmit(third));
    ASSERT_TRUE(third) << "a refused task is left to the caller";
    third();  // as Api does: the caller answers it itself
    release.set_value();
    // Once the queue drains, tasks are taken again.
    for (int i = 0; i < 3000 && ran.load() < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(ran.load(), 4);
    std::function<void()> again = count;
    EXPECT_TRUE(pool.TrySubmit(again));
  }  // the destructor runs what is queued, then joins
  EXPECT_EQ(ran.load(), 5);
}

// The hashing lane's threads carry their name and run at their lower priority.
TEST(WorkerPool, ItsThreadsHaveItsNameAndNiceValue) {
  std::promise<std::pair<std::string, int>> seen;
  {
    WorkerPool pool(1, 1, "tandem-hash", 10);
    std::function<void()> look = [&] {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      errno = 0;
      int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
      seen.set_value({name, nice});
    };
    ASSERT_TRUE(pool.TrySubmit(look));
  }
  auto [name, nice] = seen.get_future().get();
  EXPECT_EQ(name, "tandem-hash");
  EXPECT_GE(nice, 10);  // 10, or more when the tests already run at a higher nice value
}

}  // namespace
}  // namespace tandem::api
