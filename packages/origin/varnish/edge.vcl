vcl 4.1;
# The rules of a Varnish 7.1 (Debian 12 `varnish`) edge in front of @boxstream/origin, included
# by origin.vcl (one origin) and redundant.vcl (two, with failover). They name no backend.
#
# What they do:
# - GET/HEAD are cached; one origin fetch per object is streamed to every client while the
#   encoder is still uploading it (request coalescing + beresp.do_stream). This relies on the
#   origin's default Cache-Control: objects being written already carry the header they will have
#   once complete (max-age=60 for segments), which Varnish caches. Configuring the origin with
#   `--live-cache no-cache` (or no-store/private/max-age=0) would turn every live object into a
#   hit-for-miss and send every player to the origin.
# - PUT/POST/DELETE (every method but GET, HEAD and OPTIONS) are refused here with 405 (see
#   vcl_recv).
# - Byte ranges (LL-HLS parts) are their own cache objects (see vcl_recv and vcl_hash).

import std;

# GET /healthz answers 200 while the origin runs. A stopping origin closes its port at once, so
# the probe sees it fail (and redundant.vcl retries fetches on the other origin).
probe healthz {
    .url = "/healthz";
    .expected_response = 200;
    .interval = 1s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
    # Healthy from the start: a restarted Varnish serves at once, the first failing probes mark
    # the origin sick.
    .initial = 2;
}

sub vcl_recv {
    # Ingest does not go through the edge. Encoders push to the origin (ideally to its separate
    # --ingest-port): passing long chunked uploads through Varnish adds its timeouts to the live
    # path, a DELETE passed through would not remove what Varnish cached, and the origin's ingest
    # is open by default (no --ingest-secret), so a public edge must not forward writes to it.
    if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS") {
        return (synth(405));
    }
    # CORS preflights: the origin answers them (Allow-Methods/-Headers echo the request).
    if (req.method == "OPTIONS") {
        return (pass);
    }
    # Operational endpoints describe one origin process right now: never cached. (These are the
    # origin's default paths: --time-path, metricsPath, healthPath, streamsPath.)
    if (req.url ~ "^/(healthz|metrics|streams|time)(\?.*)?$") {
        return (pass);
    }
    # Reads are public: no cookie or credential changes an answer, so none may prevent caching
    # (the builtin VCL would pass such requests).
    unset req.http.Cookie;
    unset req.http.Authorization;

    # Query strings.
    # - LL-HLS playlists: the blocking-reload directives name one playlist update and must stay in
    #   the cache key, so two players asking for _HLS_msn=12&_HLS_part=3 share one origin request
    #   and _HLS_part=4 is another. Everything else in the query is dropped (the origin ignores
    #   it) and the directives are put in one order, so cache busters or a different parameter
    #   order cannot multiply origin requests. The first occurrence wins, as at the origin.
    # - Stored objects (segments, inits, MPDs, ...): the origin ignores the query (the key is the
    #   path), so it is dropped.
    # - Anything else (/player and its scripts' ?v=<version>) keeps its query: the default.
    if (req.url ~ "(?i)\.m3u8(\?|$)") {
        set req.http.X-Edge-HLS = "";
        if (req.url ~ "[?&]_HLS_msn=") {
            set req.http.X-Edge-HLS = req.http.X-Edge-HLS + "&_HLS_msn=" + regsub(req.url, "^[^?]*\?(?:.*?&)?_HLS_msn=([^&]*).*$", "\1");
        }
        if (req.url ~ "[?&]_HLS_part=") {
            set req.http.X-Edge-HLS = req.http.X-Edge-HLS + "&_HLS_part=" + regsub(req.url, "^[^?]*\?(?:.*?&)?_HLS_part=([^&]*).*$", "\1");
        }
        if (req.url ~ "[?&]_HLS_skip=") {
            set req.http.X-Edge-HLS = req.http.X-Edge-HLS + "&_HLS_skip=" + regsub(req.url, "^[^?]*\?(?:.*?&)?_HLS_skip=([^&]*).*$", "\1");
        }
        set req.url = regsub(req.url, "\?.*$", "");
        if (req.http.X-Edge-HLS != "") {
            set req.url = req.url + "?" + regsub(req.http.X-Edge-HLS, "^&", "");
        }
        unset req.http.X-Edge-HLS;
    } elsif (req.url ~ "(?i)\.(m4s|mp4|m4v|m4a|cmf[vatm]|mpd|ts|aac|vtt|key)\?") {
        set req.url = regsub(req.url, "\?.*$", "");
    }

    # Byte ranges. On a miss Varnish drops Range and fetches the whole object, and for an object
    # still being written (no Content-Length yet) it then answers a Range request with 200 and the
    # whole body from byte 0: an LL-HLS player asking for one part (BYTERANGE of the segment being
    # written, or the preload hint's open range) would get the wrong bytes. So a Range request is
    # its own cache object: the range is in the hash and is sent to the origin, which answers 206
    # as the bytes arrive. Every player asks for the same part ranges, so they still coalesce.
    # Range itself is removed from the request, so Varnish never cuts a range out of that stored
    # answer again (see vcl_backend_response and vcl_deliver for how the 206 is kept).
    # An If-Range request (rare: resuming a download) is passed, as its answer depends on it.
    unset req.http.X-Edge-Range;
    if (req.http.Range) {
        set req.http.X-Edge-Range = req.http.Range;
        unset req.http.Range;
        if (req.http.If-Range) {
            return (pass);
        }
    }
    return (hash);
}

sub vcl_hash {
    # One origin, one namespace: the URL (and the range) only, not the Host header, so players
    # reaching the edge under different names still share one object and one origin fetch.
    hash_data(req.url);
    if (req.http.X-Edge-Range) {
        hash_data("range:" + req.http.X-Edge-Range);
    }
    return (lookup);
}

sub vcl_backend_fetch {
    if (bereq.http.X-Edge-Range) {
        set bereq.http.Range = bereq.http.X-Edge-Range;
        unset bereq.http.X-Edge-Range;
    }
}

sub vcl_backend_response {
    # Stream the body to every client (the one that caused the fetch and every one coalesced onto
    # it, or arriving later) as each chunk arrives, instead of after the whole object.
    # This is Varnish's default; explicit because the whole setup depends on it.
    set beresp.do_stream = true;

    # A range of an object (LL-HLS part). Varnish 7.1 refuses to fetch a 206 whose range it did
    # not ask for itself ("Unexpected content-range header"), and the origin's live ranges say
    # `Content-Range: bytes a-b/*` (length not known yet, RFC 9110), which it cannot parse
    # ("Invalid content-range header"): either fails the fetch with a 503. So the answer is stored
    # as a 200 with its Content-Range aside, and vcl_deliver turns it back into the origin's 206.
    # Varnish gives 206 no TTL of its own (-1): take the origin's max-age (the object's class:
    # max-age=60 for segments).
    if (beresp.http.Content-Range) {
        set beresp.http.X-Edge-Content-Range = beresp.http.Content-Range;
        unset beresp.http.Content-Range;
    }
    if (beresp.status == 206) {
        set beresp.status = 200;
        set beresp.http.X-Edge-Status = "206";
        set beresp.ttl = std.duration(regsub(beresp.http.Cache-Control, "^.*\bmax-age=([0-9]+).*$", "\1") + "s", 0s);
    }

    # Errors, including the 404 the origin sends after holding a missing key for holdMs and the
    # 503 of a blocking reload whose part did not appear. The origin marks them no-store, which
    # the builtin VCL turns into a 120 s hit-for-miss: for two minutes every request for that
    # URL would go to the origin separately, uncoalesced, even once the segment exists (players
    # ask a little before a segment starts, so early 404s are normal). Not caching at all is
    # worse still: requests coalesced onto the held fetch would be woken with nothing to use and
    # queue for another full hold, one after the other. So errors are cached for 1 s: every
    # coalesced request gets the one answer, and the next request after 1 s goes to the origin
    # again, where it is held again.
    if (beresp.status >= 400) {
        set beresp.ttl = 1s;
        set beresp.grace = 0s;
        set beresp.keep = 0s;
        set beresp.uncacheable = false;
        return (deliver);
    }

    # No grace: a live object, a manifest or an init segment past its TTL must not be served
    # stale (an encoder restart replaces them under the same name). Honour the origin if it asks
    # for it with stale-while-revalidate (Varnish sets beresp.grace from it).
    if (beresp.http.Cache-Control !~ "(?i)stale-while-revalidate") {
        set beresp.grace = 0s;
    }
    # Keep complete objects a little past their TTL to revalidate them with their ETag: an init
    # segment (max-age=2) then costs a 304, not its bytes.
    if (beresp.http.ETag) {
        set beresp.keep = 10s;
    }
    # Everything else is the origin's Cache-Control, honoured by the builtin VCL that runs next:
    # manifests max-age=1, blocking-reload playlists max-age=60 (the URL names one update),
    # segments max-age=60, inits max-age=2; the LL-HLS media playlist without directives is
    # no-cache (it changes every part) and becomes a hit-for-miss: every such request goes to
    # the origin, which renders it once per update for all of them.
}

sub vcl_deliver {
    # The origin's answer to a Range request, as it sent it (see vcl_backend_response). Not when
    # Varnish answers 304 itself to a conditional request.
    if (resp.http.X-Edge-Status == "206" && resp.status == 200) {
        set resp.status = 206;
    }
    unset resp.http.X-Edge-Status;
    if (resp.http.X-Edge-Content-Range) {
        set resp.http.Content-Range = resp.http.X-Edge-Content-Range;
        unset resp.http.X-Edge-Content-Range;
    }
    # For tests and debugging: HIT includes joining an object whose fetch is still streaming.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    if (resp.status == 405) {
        set resp.http.Allow = "GET, HEAD, OPTIONS";
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        # The request body (an upload) is not read: the connection cannot be reused.
        set resp.http.Connection = "close";
        set resp.body = "method not allowed at the edge: upload to the origin directly" + {"
"};
        return (deliver);
    }
}
