print("credential-provider-harbor")
