// Notifications: the durable outbox of messages to customers and the customer-contact tasks for
// staff. A message is written in the same transaction as the change it tells about, so it is never
// lost nor sent for a change that was rolled back. (Delivery over SMTP is a later issue.)
// NotifyStore is used inside one transaction by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tandem::notify {

struct OutboxMessage {
  int64_t id = 0;
  std::string kind;       // "order_problem", "cart_item_sold_out", …
  std::string recipient;  // e-mail address
  std::string subject;
  std::string body;
  std::string reference;  // order number, cart id …
  std::string status = "pending";
  int64_t created_ms = 0;
};

struct ContactTask {
  int64_t id = 0;
  int64_t order_id = 0;
  std::optional<int64_t> conflict_id;
  std::string reason;  // "stock_conflict"
  std::string detail;
  std::string status = "open";
  int64_t created_ms = 0;
};

class NotifyStore {
 public:
  virtual ~NotifyStore() = default;
  virtual int64_t InsertOutbox(const OutboxMessage& message) = 0;
  // True when a message of `kind` with `reference` was written already (to send it once).
  virtual bool OutboxHas(const std::string& kind, const std::string& reference) = 0;
  // Newest first, ids below `before_id` (0: from the newest).
  virtual std::vector<OutboxMessage> ListOutbox(int64_t before_id, int limit) = 0;
  virtual int64_t InsertContactTask(const ContactTask& task) = 0;
  virtual std::vector<ContactTask> ListContactTasks(const std::string& status, int64_t before_id,
                                                    int limit) = 0;
};

}  // namespace tandem::notify
