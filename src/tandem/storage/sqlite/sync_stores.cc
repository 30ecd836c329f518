// SQLite implementations of the notify and sync stores.
#include <nlohmann/json.hpp>

#include "tandem/base/check.h"
#include "tandem/storage/sqlite/stores.h"

namespace tandem::storage::sqlite {
namespace {

using nlohmann::json;

constexpr Query kInsertOutbox{"insert_outbox",
    "INSERT INTO outbox (kind, recipient, subject, body, reference, status, created_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kOutboxHas{"outbox_has",
    "SELECT 1 FROM outbox WHERE kind = ? AND reference = ? LIMIT 1"};
constexpr Query kListOutbox{"list_outbox",
    "SELECT id, kind, recipient, subject, body, reference, status, created_ms FROM outbox "
    "WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2"};
constexpr Query kInsertTask{"insert_contact_task",
    "INSERT INTO contact_tasks (order_id, conflict_id, reason, detail, status, created_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)"};
constexpr Query kListTasks{"list_contact_tasks",
    "SELECT id, order_id, conflict_id, reason, detail, status, created_ms FROM contact_tasks "
    "WHERE (?1 = '' OR status = ?1) AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3"};

constexpr Query kSelectEvent{"select_till_event",
    "SELECT id, location_id, till_id, seq, type, occurred_ms, content_hash, lines, status, "
    "conflict FROM till_events WHERE id = ?"};
constexpr Query kSelectEventBySeq{"select_till_event_by_seq",
    "SELECT id, location_id, till_id, seq, type, occurred_ms, content_hash, lines, status, "
    "conflict FROM till_events WHERE location_id = ? AND till_id = ? AND seq = ?"};
constexpr Query kSelectPendingEvents{"select_pending_till_events",
    "SELECT id, location_id, till_id, seq, type, occurred_ms, content_hash, lines, status, "
    "conflict FROM till_events WHERE location_id = ? AND till_id = ? AND status = 'pending' "
    "ORDER BY seq LIMIT ?"};
constexpr Query kInsertEvent{"insert_till_event",
    "INSERT INTO till_events (id, location_id, till_id, seq, type, occurred_ms, content_hash, "
    "lines, status, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"};
constexpr Query kMarkApplied{"mark_till_event_applied",
    "UPDATE till_events SET status = 'applied', conflict = ?2, applied_ms = ?3 "
    "WHERE id = ?1 AND status = 'pending'"};
constexpr Query kSelectTill{"select_till",
    "SELECT till_id, last_applied_seq, last_upload_ms FROM tills WHERE location_id = ? AND "
    "till_id = ?"};
// A till's sequence is advanced only from the value read (?3); a new till is inserted only if
// absent.
constexpr Query kAdvanceTill{"advance_till",
    "UPDATE tills SET last_applied_seq = ?4, last_upload_ms = ?5 "
    "WHERE location_id = ?1 AND till_id = ?2 AND last_applied_seq = ?3"};
constexpr Query kInsertTill{"insert_till",
    "INSERT INTO tills (location_id, till_id, last_applied_seq, last_upload_ms) "
    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"};
constexpr Query kSelectTills{"select_tills",
    "SELECT till_id, last_applied_seq, last_upload_ms FROM tills WHERE location_id = ? "
    "ORDER BY till_id"};
constexpr Query kCountEvents{"count_till_events",
    "SELECT COUNT(*) FROM till_events WHERE location_id = ? AND status = ?"};
constexpr Query kInsertConflict{"insert_stock_conflict",
    "INSERT INTO stock_conflicts (sku, location_id, shortfall, reference, created_ms) "
    "VALUES (?, ?, ?, ?, ?)"};
constexpr Query kSaveConflict{"save_stock_conflict",
    "UPDATE stock_conflicts SET holds_released = ?2, units_reallocated = ?3, "
    "units_unfulfillable = ?4, resolved = ?5 WHERE id = ?1"};
constexpr Query kListConflicts{"list_stock_conflicts",
    "SELECT id, sku, location_id, shortfall, reference, holds_released, units_reallocated, "
    "units_unfulfillable, resolved, created_ms FROM stock_conflicts "
    "WHERE (?1 IS NULL OR location_id = ?1) AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3"};
constexpr Query kCountConflicts{"count_stock_conflicts",
    "SELECT COUNT(*) FROM stock_conflicts WHERE location_id = ? AND (?2 = 0 OR resolved = 0)"};
// Each applied event has exactly one movement per line, with its reference.
constexpr Query kEventsWithWrongLedger{"till_events_with_wrong_ledger",
    "SELECT e.id FROM till_events e WHERE e.status = 'applied' AND json_array_length(e.lines) <> "
    "(SELECT COUNT(*) FROM movements m WHERE m.reference = 'till ' || e.till_id || ' event ' || "
    "e.id AND m.location_id = e.location_id) ORDER BY e.id LIMIT 100"};

std::string LinesToJson(const std::vector<sync::EventLine>& lines) {
  json arr = json::array();
  for (const auto& l : lines) arr.push_back({{"sku", l.sku}, {"quantity", l.quantity}});
  return arr.dump();
}

sync::StoredEvent ReadEvent(const Rows& r) {
  sync::StoredEvent s;
  s.event.id = r.Text(0);
  s.location_id = r.Int(1);
  s.till_id = r.Text(2);
  s.event.seq = r.Int(3);
  auto type = sync::ParseEventType(r.Text(4));
  TANDEM_CHECK(type.has_value());
  s.event.type = *type;
  s.event.occurred_ms = r.Int(5);
  s.content_hash = r.Text(6);
  json lines = json::parse(r.Text(7), nullptr, false);
  TANDEM_CHECK(lines.is_array());
  for (const auto& l : lines) {
    s.event.lines.push_back({l.value("sku", ""), l.value("quantity", int64_t{0})});
  }
  s.status = r.Text(8);
  s.conflict = r.Int(9) != 0;
  return s;
}

}  // namespace

int64_t SqliteNotifyStore::InsertOutbox(const notify::OutboxMessage& m) {
  c_.Exec(kInsertOutbox, m.kind, m.recipient, m.subject, m.body, m.reference, m.status,
          m.created_ms);
  return c_.LastInsertId();
}

bool SqliteNotifyStore::OutboxHas(const std::string& kind, const std::string& reference) {
  Rows r = c_.Select(kOutboxHas, kind, reference);
  return r.Next();
}

std::vector<notify::OutboxMessage> SqliteNotifyStore::ListOutbox(int64_t before_id, int limit) {
  std::vector<notify::OutboxMessage> out;
  Rows r = c_.Select(kListOutbox, before_id, limit);
  while (r.Next()) {
    out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
                   r.Int(7)});
  }
  return out;
}

int64_t SqliteNotifyStore::InsertContactTask(const notify::ContactTask& t) {
  c_.Exec(kInsertTask, t.order_id, t.conflict_id, t.reason, t.detail, t.status, t.created_ms);
  return c_.LastInsertId();
}

std::vector<notify::ContactTask> SqliteNotifyStore::ListContactTasks(const std::string& status,
                                                                     int64_t before_id,
                                                                     int limit) {
  std::vector<notify::ContactTask> out;
  Rows r = c_.Select(kListTasks, status, before_id, limit);
  while (r.Next()) {
    out.push_back({r.Int(0), r.Int(1), r.OptInt(2), r.Text(3), r.Text(4), r.Text(5), r.Int(6)});
  }
  return out;
}

std::optional<sync::StoredEvent> SqliteSyncStore::FindEvent(const std::string& id) {
  Rows r = c_.Select(kSelectEvent, id);
  if (!r.Next()) return std::nullopt;
  return ReadEvent(r);
}

std::optional<sync::StoredEvent> SqliteSyncStore::FindEventBySeq(int64_t location_id,
                                                                 const std::string& till_id,
                                                                 int64_t seq) {
  Rows r = c_.Select(kSelectEventBySeq, location_id, till_id, seq);
  if (!r.Next()) return std::nullopt;
  return ReadEvent(r);
}

bool SqliteSyncStore::TryInsertEvent(const sync::StoredEvent& s, int64_t now_ms) {
  return c_.Exec(kInsertEvent, s.event.id, s.location_id, s.till_id, s.event.seq,
          std::string(sync::EventTypeName(s.event.type)), s.event.occurred_ms, s.content_hash,
          LinesToJson(s.event.lines), s.status, now_ms) == 1;
}

bool SqliteSyncStore::TryMarkApplied(const std::string& id, bool conflict, int64_t now_ms) {
  return c_.Exec(kMarkApplied, id, conflict, now_ms) == 1;
}

std::vector<sync::StoredEvent> SqliteSyncStore::PendingEvents(int64_t location_id,
                                                              const std::string& till_id,
                                                              int limit) {
  std::vector<sync::StoredEvent> out;
  Rows r = c_.Select(kSelectPendingEvents, location_id, till_id, limit);
  while (r.Next()) out.push_back(ReadEvent(r));
  return out;
}

std::optional<sync::TillStatus> SqliteSyncStore::FindTill(int64_t location_id,
                                                          const std::string& till_id) {
  Rows r = c_.Select(kSelectTill, location_id, till_id);
  if (!r.Next()) return std::nullopt;
  return sync::TillStatus{r.Text(0), r.Int(1), r.Int(2)};
}

bool SqliteSyncStore::TryAdvanceTill(int64_t location_id, int64_t from_seq,
                                     const sync::TillStatus& t) {
  if (c_.Exec(kAdvanceTill, location_id, t.till_id, from_seq, t.last_applied_seq,
              t.last_upload_ms) == 1) {
    return true;
  }
  return from_seq == 0 &&
         c_.Exec(kInsertTill, location_id, t.till_id, t.last_applied_seq, t.last_upload_ms) == 1;
}

std::vector<sync::TillStatus> SqliteSyncStore::Tills(int64_t location_id) {
  std::vector<sync::TillStatus> out;
  Rows r = c_.Select(kSelectTills, location_id);
  while (r.Next()) out.push_back({r.Text(0), r.Int(1), r.Int(2)});
  return out;
}

int64_t SqliteSyncStore::CountEvents(int64_t location_id, const std::string& status) {
  Rows r = c_.Select(kCountEvents, location_id, status);
  TANDEM_CHECK(r.Next());
  return r.Int(0);
}

int64_t SqliteSyncStore::InsertConflict(const sync::Conflict& c) {
  c_.Exec(kInsertConflict, c.sku, c.location_id, c.shortfall, c.reference, c.created_ms);
  return c_.LastInsertId();
}

void SqliteSyncStore::SaveConflict(const sync::Conflict& c) {
  TANDEM_CHECK(c_.Exec(kSaveConflict, c.id, c.holds_released, c.units_reallocated,
                       c.units_unfulfillable, c.resolved) == 1);
}

std::vector<sync::Conflict> SqliteSyncStore::ListConflicts(std::optional<int64_t> location_id,
                                                           int64_t before_id, int limit) {
  std::vector<sync::Conflict> out;
  Rows r = c_.Select(kListConflicts, location_id, before_id, limit);
  while (r.Next()) {
    out.push_back({r.Int(0), r.Text(1), r.Int(2), r.Int(3), r.Text(4), r.Int(5), r.Int(6),
                   r.Int(7), r.Int(8) != 0, r.Int(9)});
  }
  return out;
}

int64_t SqliteSyncStore::CountConflicts(int64_t location_id, bool unresolved_only) {
  Rows r = c_.Select(kCountConflicts, location_id, unresolved_only);
  TANDEM_CHECK(r.Next());
  return r.Int(0);
}

std::vector<std::string> SqliteSyncStore::EventsWithWrongLedger() {
  std::vector<std::string> out;
  Rows r = c_.Select(kEventsWithWrongLedger);
  while (r.Next()) out.push_back(r.Text(0));
  return out;
}

}  // namespace tandem::storage::sqlite
