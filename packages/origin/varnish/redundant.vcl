vcl 4.1;
# Varnish 7.1 (Debian 12 `varnish`) in front of two @boxstream/origin instances that hold the
# same stream (each fed by the encoder's relay: `--relay http://a --relay http://b` on an origin
# next to the encoder). Players are served from origin a until it fails, then from b, without
# waiting for the health probe: a fetch that cannot reach a (refused, reset, connect timeout) is
# tried on b at once. An origin that answers, even with an error, is not failed over, and one
# that hangs holds its fetches up to the backend timeouts below.
# The rules are in edge.vcl, which must sit beside this file (readable by varnishd's user).
#
#   varnishd -F -a :6081 -f "$PWD/redundant.vcl" -s malloc,256m \
#     -p thread_pool_min=600 -p thread_queue_limit=1000
#
# (an absolute -f path: a relative one is looked up in vcl_path, not in the current directory.)
# The backends are 127.0.0.1:8081 (a) and 127.0.0.1:8082 (b); change their `.host`/`.port`.
# Rules of your own (vcl_recv, vcl_hash) go before the include: edge.vcl's return.

import directors;

include "./edge.vcl";

backend a {
    .host = "127.0.0.1";
    .port = "8081";
    .connect_timeout = 1s;
    # As in origin.vcl: above the origin's hold and blocking reloads, and above its ingest idle
    # timeout, so the origin decides when an upload is dead.
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 15s;
    .probe = healthz;
}

backend b {
    .host = "127.0.0.1";
    .port = "8082";
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 15s;
    .probe = healthz;
}

sub vcl_init {
    # The first healthy one, in this order, and sticky: once b took over it keeps the players
    # until b fails. A restarted a may be healthy (it answers /healthz) long before it holds the
    # stream again: the relay sends it what is new, not what it lost.
    new origins = directors.fallback(sticky = true);
    origins.add_backend(a);
    origins.add_backend(b);
}

sub vcl_backend_fetch {
    # A retry (see vcl_backend_error) goes to the other origin, whatever the probes say yet.
    if (bereq.retries > 0 && bereq.http.X-Edge-Failed == "a") {
        set bereq.backend = b;
    } elsif (bereq.retries > 0 && bereq.http.X-Edge-Failed == "b") {
        set bereq.backend = a;
    } else {
        set bereq.backend = origins.backend();
    }
    unset bereq.http.X-Edge-Failed;
}

sub vcl_backend_error {
    # The origin could not be reached (refused, reset, timed out) and nothing was sent to the
    # player yet: once more, on the other origin. A response already streaming when its origin
    # died is cut, not retried; the player asks again and lands here.
    if (bereq.retries == 0 && beresp.backend) {
        set bereq.http.X-Edge-Failed = beresp.backend.name;
        return (retry);
    }
    # Both failed: the 503 is kept for a second, never served stale after they recover.
    set beresp.ttl = 1s;
    set beresp.grace = 0s;
}
