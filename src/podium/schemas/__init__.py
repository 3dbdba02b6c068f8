"""Wire models: request and response bodies, named as the Prefect REST API names them."""
