from feeds.serve.asgi import create_asgi_app

app = create_asgi_app()
