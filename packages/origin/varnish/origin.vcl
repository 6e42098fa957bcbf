vcl 4.1;
# Varnish 7.1 (Debian 12 `varnish`) in front of one @boxstream/origin. The rules are in
# edge.vcl, which must sit beside this file (readable by varnishd's user; see there what they do).
#
#   varnishd -F -a :6081 -f "$PWD/origin.vcl" -s malloc,256m \
#     -p thread_pool_min=600 -p thread_queue_limit=1000
#
# (an absolute -f path: a relative one is looked up in vcl_path, not in the current directory.)
# The backend is the origin CLI's default address, 127.0.0.1:8080: change `.host`/`.port` in
# the backend below (the tests rewrite its port in a copy). Rules of your own (vcl_recv,
# vcl_hash) go before the include: edge.vcl's return.
#
# Worker threads: every client receiving a streamed body holds one Varnish worker thread for as
# long as the object is being written. Start enough of them up front (thread_pool_min is per
# pool, 2 pools by default): a burst of players arriving when the pools are small waits in a
# queue of 20 per pool (thread_queue_limit) and beyond that is dropped.

include "./edge.vcl";

backend origin {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 2s;
    # The origin holds a GET for a key that does not exist yet for holdMs (default 3 s) and a
    # blocking LL-HLS playlist reload for up to 3 target durations (6 s for 2 s segments) before it
    # answers, and both answers must come from the origin, not from a Varnish timeout. Raise this
    # if the origin runs with --hold-ms above 30 s or with segments longer than 10 s.
    .first_byte_timeout = 30s;
    # The gap between two CMAF chunks of a live object is the encoder's chunk duration. The origin
    # itself cuts an upload that stalls for ingestIdleMs (default 10 s) and then ends its readers'
    # responses without the last chunk; this stays above that, so the origin decides, and a cut
    # fetch is never cached as a complete object.
    .between_bytes_timeout = 15s;
    .probe = healthz;
}
