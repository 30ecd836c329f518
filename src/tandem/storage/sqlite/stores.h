// SQLite implementations of the module stores and of storage::Tx, over one Connection.
// Used by one thread inside one transaction (see sqlite_database.h).
#pragma once

#include <string>
#include <unordered_set>

#include "tandem/base/limits.h"
#include "tandem/storage/database.h"
#include "tandem/storage/sqlite/connection.h"
#include "tandem/storage/sqlite/recent_orders.h"
#include "tandem/storage/sqlite/reference_cache.h"

namespace tandem::storage::sqlite {

// Holds one cart may place over its life (each change of a line places new ones): a hold's id is
// its cart's id times this plus its number in the cart (migration 13), so a cart's holds are a
// range of the table's key.
inline constexpr int64_t kHoldsPerCartMax = int64_t{1} << 20;
// Every line of a full cart can be changed many times over.
static_assert(kHoldsPerCartMax >= 1000 * kCartLinesMax);

// Every SKU named by any sale event, past or future (what ReferenceCache::event_skus holds).
std::unordered_set<std::string> ReadEventSkus(Connection& c);

// What the writer remembers of the file between statements, each explained in its header. Only
// the writer's stores have them; a reader's have none.
struct WriterMemory {
  ReferenceCache* references = nullptr;
  RecentOrders* recent_orders = nullptr;
};

class SqliteCatalogStore final : public catalog::CatalogStore {
 public:
  // `cache`: the writer's (see reference_cache.h); none on readers.
  explicit SqliteCatalogStore(Connection& c, ReferenceCache* cache = nullptr)
      : c_(c), cache_(cache) {}
  int64_t InsertProduct(const catalog::Product& product) override;
  void SaveProduct(const catalog::Product& product) override;
  std::optional<catalog::Product> FindProduct(int64_t id) override;
  std::optional<catalog::Variant> FindVariant(const std::string& sku) override;
  std::optional<catalog::VariantWithProduct> FindVariantWithProduct(const std::string& sku) override;
  std::vector<int64_t> SearchProducts(const std::vector<std::string>& terms, int limit,
                                      int64_t offset) override;

 private:
  void UpsertVariants(const catalog::Product& product);
  void Index(const catalog::Product& product);
  Connection& c_;
  ReferenceCache* cache_;
};

class SqliteInventoryStore final : public inventory::InventoryStore {
 public:
  // `cache`: the writer's (reference_cache.h); none on readers.
  explicit SqliteInventoryStore(Connection& c, ReferenceCache* cache = nullptr)
      : c_(c), cache_(cache) {}
  int64_t InsertLocation(const inventory::Location& location) override;
  std::vector<inventory::Location> Locations() override;
  int64_t BacklogAt(int64_t location_id) override;
  std::optional<inventory::Location> FindLocation(int64_t id) override;
  std::optional<inventory::Location> FindLocationByCode(const std::string& code) override;
  std::vector<inventory::StockLevel> Levels(const std::string& sku) override;
  std::vector<inventory::StockLevel> LevelsAt(int64_t location_id, const std::string& after_sku,
                                              int limit) override;
  std::optional<inventory::StockLevel> Level(const std::string& sku, int64_t location_id) override;
  void EnsureLevel(const std::string& sku, int64_t location_id, int64_t safety_stock) override;
  bool TryReserve(const std::string& sku, int64_t location_id, int64_t qty) override;
  bool TryUnreserve(const std::string& sku, int64_t location_id, int64_t qty) override;
  bool TryReservedToAllocated(const std::string& sku, int64_t location_id, int64_t qty) override;
  bool TryUnallocate(const std::string& sku, int64_t location_id, int64_t qty) override;
  int64_t RecordMovement(const inventory::Movement& m, int64_t allocated_delta) override;
  int64_t ForceMovement(const inventory::Movement& m) override;
  bool TryAllocate(const std::string& sku, int64_t location_id, int64_t qty) override;
  bool TrySetSafetyStock(const std::string& sku, int64_t location_id, int64_t qty) override;
  std::vector<inventory::Hold> HoldsAt(const std::string& sku, int64_t location_id) override;
  std::vector<inventory::Allocation> OpenAllocationsAt(const std::string& sku, int64_t loc,
                                                       int64_t limit) override;
  std::vector<inventory::Allocation> OpenAllocationsOfLocation(int64_t location_id,
                                                               int limit) override;
  std::vector<inventory::Movement> MovementsOf(const std::string& sku, int64_t location_id,
                                               int64_t before_id, int limit) override;
  int64_t InsertHold(const inventory::Hold& hold) override;
  std::vector<inventory::Hold> HoldsOfCart(int64_t cart_id) override;
  void DeleteHold(int64_t hold_id) override;
  void ExtendHolds(int64_t cart_id, int64_t now_ms, int64_t expires_ms) override;
  std::vector<inventory::Hold> ExpiredHolds(int64_t now_ms, const std::string& sku,
                                            int limit) override;
  int64_t InsertAllocation(const inventory::Allocation& allocation) override;
  std::vector<inventory::Allocation> AllocationsOfOrder(int64_t order_id) override;
  void CloseAllocation(int64_t allocation_id, bool shipped) override;
  void ShrinkAllocation(int64_t allocation_id, int64_t quantity) override;
  std::vector<inventory::LevelTotals> Totals() override;
  int64_t InsertSaleEvent(const inventory::SaleEvent& event,
                          const std::vector<inventory::SaleEventSku>& skus) override;
  std::optional<inventory::SaleEvent> FindSaleEvent(int64_t id) override;
  std::vector<inventory::SaleEvent> SaleEvents(int limit) override;
  std::vector<inventory::SaleEventSku> SaleEventSkus(int64_t event_id) override;
  std::optional<inventory::SaleEventSku> ActiveEventSku(const std::string& sku,
                                                        int64_t now_ms) override;
  bool EventOverlaps(const std::string& sku, int64_t starts_ms, int64_t ends_ms) override;
  bool TryCommitEvent(int64_t event_id, const std::string& sku, int64_t qty) override;
  bool TryUncommitEvent(int64_t event_id, const std::string& sku, int64_t qty) override;
  int64_t Purchased(int64_t event_id, const std::string& customer_key,
                    const std::string& sku) override;
  bool TryAddPurchase(int64_t event_id, const std::string& customer_key, const std::string& sku,
                      int64_t qty, int64_t limit) override;
  std::vector<inventory::EventTotals> EventTotalsOf(int64_t event_id) override;
  int64_t InsertTransfer(const inventory::Transfer& transfer) override;
  std::optional<inventory::Transfer> FindTransfer(int64_t id) override;
  bool MarkTransferReceived(int64_t id, int64_t now_ms) override;
  std::vector<inventory::Transfer> Transfers(const std::string& status, int64_t before_id,
                                             int limit) override;

 private:
  // The largest hold id of one cart this transaction has seen (read or inserted), so that a new
  // hold's id needs no read of its own: a cart's holds are read before new ones are placed.
  struct LastHold {
    int64_t cart_id = 0;
    int64_t id = 0;
  };
  void SawHoldOf(int64_t cart_id, int64_t id);

  Connection& c_;
  ReferenceCache* cache_;
  LastHold last_hold_;
};

class SqliteOrderStore final : public orders::OrderStore {
 public:
  // `memory.recent_orders`, the writer's, serves RecentOrderOf by e-mail (the file has no
  // index of orders by e-mail); only a store with one may place orders.
  explicit SqliteOrderStore(Connection& c, const WriterMemory& memory = {})
      : c_(c), recent_(memory.recent_orders) {}
  int64_t InsertCart(const orders::Cart& cart) override;
  std::optional<orders::Cart> FindCart(int64_t id) override;
  void SaveCartFulfillment(int64_t cart_id, const orders::Fulfillment& f, int64_t now_ms) override;
  void SetCartLine(int64_t cart_id, const std::string& sku, int64_t quantity,
                   int64_t now_ms) override;
  void CloseCart(int64_t cart_id, int64_t now_ms) override;
  std::vector<int64_t> OpenCartsWithSku(const std::string& sku, int limit) override;
  int64_t NextOrderSequence(int year) override;
  int64_t InsertOrder(orders::Order& order) override;
  std::optional<orders::Order> FindOrder(int64_t id) override;
  std::optional<orders::Order> FindOrderByTrackingCode(const std::string& code) override;
  bool UpdateStatus(int64_t order_id, orders::OrderStatus from, orders::OrderStatus to,
                    const std::string& carrier, const std::string& tracking_number,
                    int64_t now_ms) override;
  void AppendTimeline(int64_t order_id, const orders::TimelineEntry& entry) override;
  std::vector<orders::Order> ListOrders(const orders::OrderFilter& filter) override;
  std::optional<int64_t> RecentOrderOf(std::optional<int64_t> customer_id,
                                       const std::string& email, int64_t since_ms) override;
  void LinkOrders(int64_t a, int64_t b) override;
  void AddUnfulfillable(int64_t line_id, int64_t quantity) override;
  int64_t VerifiedPaymentAmount(int64_t order_id) override;

 private:
  Connection& c_;
  RecentOrders* recent_;
};

class SqliteAccountStore final : public customers::AccountStore {
 public:
  explicit SqliteAccountStore(Connection& c) : c_(c) {}
  int64_t InsertAccount(const customers::Account& account) override;
  std::optional<customers::Account> FindAccount(int64_t id) override;
  std::optional<customers::Account> FindAccountByEmail(const std::string& email) override;
  bool ReplacePasswordHash(int64_t account_id, const std::string& old_hash,
                           const std::string& new_hash) override;
  void InsertSession(const customers::Session& session) override;
  std::optional<customers::Session> FindSession(const std::string& token_hash) override;
  void RevokeSession(const std::string& token_hash) override;
  bool ExtendSession(const std::string& token_hash, int64_t expires_ms, int64_t now_ms) override;

 private:
  Connection& c_;
};

class SqliteNotifyStore final : public notify::NotifyStore {
 public:
  explicit SqliteNotifyStore(Connection& c) : c_(c) {}
  int64_t InsertOutbox(const notify::OutboxMessage& message) override;
  bool OutboxHas(const std::string& kind, const std::string& reference) override;
  std::vector<notify::OutboxMessage> ListOutbox(int64_t before_id, int limit) override;
  int64_t InsertContactTask(const notify::ContactTask& task) override;
  std::vector<notify::ContactTask> ListContactTasks(const std::string& status, int64_t before_id,
                                                    int limit) override;

 private:
  Connection& c_;
};

class SqliteSyncStore final : public sync::SyncStore {
 public:
  explicit SqliteSyncStore(Connection& c) : c_(c) {}
  std::optional<sync::StoredEvent> FindEvent(const std::string& id) override;
  std::optional<sync::StoredEvent> FindEventBySeq(int64_t location_id, const std::string& till_id,
                                                  int64_t seq) override;
  bool TryInsertEvent(const sync::StoredEvent& event, int64_t now_ms) override;
  bool TryMarkApplied(const std::string& id, bool conflict, int64_t now_ms) override;
  std::vector<sync::StoredEvent> PendingEvents(int64_t location_id, const std::string& till_id,
                                               int limit) override;
  std::optional<sync::TillStatus> FindTill(int64_t location_id,
                                           const std::string& till_id) override;
  bool TryAdvanceTill(int64_t location_id, int64_t from_seq, const sync::TillStatus& till) override;
  std::vector<sync::TillStatus> Tills(int64_t location_id) override;
  int64_t CountEvents(int64_t location_id, const std::string& status) override;
  int64_t InsertConflict(const sync::Conflict& conflict) override;
  void SaveConflict(const sync::Conflict& conflict) override;
  std::vector<sync::Conflict> ListConflicts(std::optional<int64_t> location_id, int64_t before_id,
                                            int limit) override;
  int64_t CountConflicts(int64_t location_id, bool unresolved_only) override;
  std::vector<std::string> EventsWithWrongLedger() override;

 private:
  Connection& c_;
};

class SqlitePaymentStore final : public payments::PaymentStore {
 public:
  explicit SqlitePaymentStore(Connection& c) : c_(c) {}
  int64_t InsertPayment(const payments::Payment& payment) override;
  std::optional<payments::Payment> FindPayment(int64_t id) override;
  std::optional<payments::Payment> FindPaymentBySession(const std::string& session) override;
  std::vector<payments::Payment> PaymentsOfOrder(int64_t order_id) override;
  bool TryDecide(int64_t id, std::initializer_list<payments::PaymentState> from,
                 payments::PaymentState to, const std::string& decided_by,
                 const std::string& reason, const std::string& provider_payment,
                 int64_t now_ms) override;
  int64_t InsertProof(const payments::Proof& proof) override;
  bool TryAddRefunded(int64_t payment_id, int64_t amount, int64_t now_ms) override;
  int64_t InsertRefund(const payments::Refund& refund) override;
  std::vector<payments::Refund> RefundsOfOrder(int64_t order_id) override;
  bool TryRecordProviderEvent(const std::string& event_id, const std::string& type,
                              int64_t now_ms) override;
  int64_t NextDocumentSequence(payments::DocumentKind kind, int year) override;
  int64_t InsertInvoice(const payments::Invoice& invoice) override;
  std::vector<payments::Invoice> InvoicesOfOrder(int64_t order_id) override;
  std::vector<int64_t> UnpaidOrdersBefore(orders::PaymentMethod method, int64_t before_ms,
                                          int limit) override;
  std::vector<std::string> Discrepancies() override;

 private:
  void AddProofs(payments::Payment& payment);
  Connection& c_;
};

class SqliteFulfillmentStore final : public fulfillment::FulfillmentStore {
 public:
  explicit SqliteFulfillmentStore(Connection& c) : c_(c) {}
  int64_t EnsureShipment(int64_t order_id, int64_t location_id, int64_t now_ms) override;
  std::optional<fulfillment::Shipment> FindShipment(int64_t id) override;
  std::vector<fulfillment::Shipment> ShipmentsOfOrder(int64_t order_id) override;
  std::vector<fulfillment::Shipment> ShipmentsAt(int64_t location_id,
                                                 fulfillment::ShipmentStatus status,
                                                 int limit) override;
  std::optional<fulfillment::Shipment> FindShipmentByTracking(
      const std::string& tracking_number) override;
  bool TryMove(int64_t id, fulfillment::ShipmentStatus from, fulfillment::ShipmentStatus to,
               const std::string& carrier, const std::string& service,
               const std::string& tracking_number, int64_t now_ms) override;
  void SetHandoverCode(int64_t id, const std::string& code, int64_t ready_ms) override;
  std::map<std::string, int64_t> Scans(int64_t shipment_id) override;
  bool TryScan(int64_t shipment_id, const std::string& sku, int64_t allocated) override;
  bool TryRecordEvent(int64_t shipment_id, const fulfillment::ShipmentEvent& event) override;
  std::vector<fulfillment::ShipmentEvent> EventsOf(int64_t shipment_id) override;
  std::optional<std::string> SkuOfBarcode(const std::string& barcode) override;
  std::string BarcodeOf(const std::string& sku) override;
  std::vector<int64_t> UncollectedPickups(int64_t before_ms, int limit) override;
  std::vector<std::string> Discrepancies() override;

 private:
  Connection& c_;
};

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Connection& c, const WriterMemory& memory = {})
      : c_(c),
        catalog_(c, memory.references),
        inventory_(c, memory.references),
        orders_(c, memory),
        accounts_(c),
        notify_(c),
        sync_(c),
        payments_(c),
        fulfillment_(c) {}
  catalog::CatalogStore& catalog() override { return catalog_; }
  inventory::InventoryStore& inventory() override { return inventory_; }
  orders::OrderStore& orders() override { return orders_; }
  customers::AccountStore& accounts() override { return accounts_; }
  notify::NotifyStore& notify() override { return notify_; }
  sync::SyncStore& sync() override { return sync_; }
  payments::PaymentStore& payments() override { return payments_; }
  fulfillment::FulfillmentStore& fulfillment() override { return fulfillment_; }
  std::optional<IdempotencyRecord> FindIdempotency(const std::string& key) override;
  bool TrySaveIdempotency(const std::string& key, const IdempotencyRecord& record,
                          int64_t now_ms) override;
  std::optional<std::string> GetSetting(const std::string& key) override;
  void PutSetting(const std::string& key, const std::string& value) override;

 private:
  Connection& c_;
  SqliteCatalogStore catalog_;
  SqliteInventoryStore inventory_;
  SqliteOrderStore orders_;
  SqliteAccountStore accounts_;
  SqliteNotifyStore notify_;
  SqliteSyncStore sync_;
  SqlitePaymentStore payments_;
  SqliteFulfillmentStore fulfillment_;
};

}  // namespace tandem::storage::sqlite
