import Agent
print("harbor-keyless")
