#!/usr/bin/python3
"""A real RTSP camera on loopback for the tests: GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0)
serving one still picture as a live H.264 stream at 10 frames per second, over RTSP/TCP, optionally behind
digest authentication, as IP cameras do.

    rtsp_server.py --port P --picture FILE [--path /camera] [--user U --password-file F]

Prints "ready rtsp://127.0.0.1:P/camera" once it listens; runs until killed. The password is read from a file so
that it never appears in `ps`.
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--picture", required=True, help="a PNG, JPEG or PPM file, even width and height")
    parser.add_argument("--path", default="/camera")
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    arguments = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer.new()
    server.set_address("127.0.0.1")
    server.set_service(str(arguments.port))

    factory = GstRtspServer.RTSPMediaFactory.new()
    # A still made live: decoded once, repeated at 10 fps, encoded with a low quantiser (near-lossless, so frames
    # classify as the picture does) and a key frame every second (a client joining late starts within one).
    location = arguments.picture.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! decodebin ! videoconvert ! imagefreeze is-live=true '
        "! video/x-raw,framerate=10/1 ! videoconvert ! video/x-raw,format=I420 "
        "! x264enc tune=zerolatency speed-preset=ultrafast pass=quant quantizer=4 key-int-max=10 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)

    if arguments.user:
        with open(arguments.password_file, encoding="utf-8") as handle:
            password = handle.read().strip()
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        auth.add_digest(arguments.user, password, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role("camera-user")
        permissions.add_permission_for_role("camera-user", "media.factory.access", True)
        permissions.add_permission_for_role("camera-user", "media.factory.construct", True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory(arguments.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{arguments.port}", file=sys.stderr, flush=True)
        return 1
    print(f"ready rtsp://127.0.0.1:{arguments.port}{arguments.path}", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
