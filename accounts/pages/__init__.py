"""Server-rendered pages: sign-in, home, API tokens, service accounts and IdP group rules."""
