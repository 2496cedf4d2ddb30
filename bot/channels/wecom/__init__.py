"""The WeCom (企业微信) channel: a self-built app's callback server, its message API, and the renderer."""
