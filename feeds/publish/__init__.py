"""Publishing a Site: the static export, the `feeds build` command, and WebSub pings."""
