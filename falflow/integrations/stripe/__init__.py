"""The Stripe integration: `gateway.StripeGateway` is the only code that imports the SDK."""
