#include "client/filters.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "storage/database.h"
#include "storage/user_data.h"
#include "sync/filter.h"

#include <charconv>

namespace eltrix::client {

void add_filter_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/user/{userId}/filter",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"),
                                                  "Cannot create filters for other users");
               // Validated now so that a later /sync never meets a broken filter.
               (void)sync::parse_filter(req.json());
               // dump() of nlohmann's object is key-sorted, so the same filter sent
               // again gets the same text and therefore the same ID.
               std::string text = req.json().dump();
               auto filter_id = ctx.db.write([&](storage::Transaction& tx) {
                 return storage::store_filter(tx, user_id, text);
               });
               return http::Response::json(200, {{"filter_id", std::to_string(filter_id)}});
             },
             {.body = http::BodyMode::json, .max_body = sync::kMaxFilterBytes});

  router.add(
      "GET", "/_matrix/client/v3/user/{userId}/filter/{filterId}", [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        std::string user_id =
            require_self(who, req.path_param("userId"), "Cannot get filters for other users");
        auto param = req.path_param("filterId");
        std::int64_t filter_id = -1;
        auto [ptr, ec] = std::from_chars(param.data(), param.data() + param.size(), filter_id);
        if (ec != std::errc() || ptr != param.data() + param.size() || filter_id < 0) {
          throw not_found("No such filter");
        }
        auto lookup = [&](storage::Transaction& tx) {
          return storage::find_filter(tx, user_id, filter_id);
        };
        // Filters never change: a replica is right unless it has not
        // replayed the upload yet, which only a miss can show.
        auto text = ctx.db.read(lookup);
        if (!text) text = ctx.db.write(lookup);
        if (!text) throw not_found("No such filter");
        return http::Response::json_text(200, *text);
      });
}

}  // namespace eltrix::client
