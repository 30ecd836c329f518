// Route registration, one function per module. Each handler parses and checks its input, runs the
// domain operation through the Database seam and maps the outcome to JSON.
#pragma once

#include "tandem/api/context.h"
#include "tandem/api/router.h"

namespace tandem::api {

void AddAccountRoutes(Router& router, ApiContext& ctx);
void AddCatalogRoutes(Router& router, ApiContext& ctx);
void AddInventoryRoutes(Router& router, ApiContext& ctx);
void AddCartRoutes(Router& router, ApiContext& ctx);
void AddOrderRoutes(Router& router, ApiContext& ctx);
void AddSyncRoutes(Router& router, ApiContext& ctx);
void AddEventRoutes(Router& router, ApiContext& ctx);
void AddFulfillmentRoutes(Router& router, ApiContext& ctx);
// What follows a staff transition or a cancellation, in the same transaction: an order moved to
// processing (cash) opens its shipments, a cancelled one cancels them, a cash order marked
// delivered is paid and invoiced.
Status AfterStaffTransition(ApiContext& ctx, storage::Tx& tx, const std::string& actor,
                            const orders::Order& order);

}  // namespace tandem::api
