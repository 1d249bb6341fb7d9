from feeds.serve.web import create_app

app = create_app()
