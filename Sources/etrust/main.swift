print("etrust")
