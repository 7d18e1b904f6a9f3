// cluster-strategy-kubernetes plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "kubernetes_strategy.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;

constexpr ConfigKeySpec kKeys[] = {
    {.name = "cluster.kubernetes.selector",
     .type = ConfigType::string,
     .help = "Label selector of the Eltrix pods (for example app=eltrix); the ready pods it "
             "matches in the namespace are the peers, reached at their pod IP on cluster.port.",
     .flags = eltrix::plugin::kConfigRequired},
    {.name = "cluster.kubernetes.namespace",
     .type = ConfigType::string,
     .default_value = "",
     .help = "Namespace to list pods in. Empty: read it from cluster.kubernetes.namespace_file "
             "(this pod's own namespace)."},
    {.name = "cluster.kubernetes.namespace_file",
     .type = ConfigType::string,
     .default_value = "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
     .help = "File holding this pod's namespace (mounted by Kubernetes)."},
    {.name = "cluster.kubernetes.token_file",
     .type = ConfigType::string,
     .default_value = "/var/run/secrets/kubernetes.io/serviceaccount/token",
     .help = "Service-account token for the API server, re-read on every poll (projected tokens "
             "rotate). The service account needs get and list on pods."},
    {.name = "cluster.kubernetes.ca_file",
     .type = ConfigType::string,
     .default_value = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
     .help = "CA certificate the API server's certificate must chain to (no other CA is "
             "trusted); reloaded when the file changes."},
    {.name = "cluster.kubernetes.api_host",
     .type = ConfigType::string,
     .default_value = "",
     .help = "API server address; Kubernetes sets KUBERNETES_SERVICE_HOST in every pod.",
     .env = "KUBERNETES_SERVICE_HOST"},
    {.name = "cluster.kubernetes.api_port",
     .type = ConfigType::integer,
     .default_value = "443",
     .help = "API server HTTPS port; Kubernetes sets KUBERNETES_SERVICE_PORT in every pod.",
     .env = "KUBERNETES_SERVICE_PORT",
     .min_value = 1,
     .max_value = 65535},
    {.name = "cluster.kubernetes.poll_interval",
     .type = ConfigType::integer,
     .default_value = "5",
     .help = "Seconds between pod lists. A failed list keeps the last known peers.",
     .min_value = 1,
     .max_value = 3600},
    {.name = "cluster.kubernetes.timeout",
     .type = ConfigType::integer,
     .default_value = "5",
     .help = "Seconds to wait for the API server (connect, and each read).",
     .min_value = 1,
     .max_value = 60},
};

}  // namespace

ELTRIX_PLUGIN(cluster_strategy, "kubernetes", "1.0.0",
              eltrix::cluster_kubernetes::KubernetesStrategy, kKeys)
