"""The municipal resident registry (住民基本台帳): records, households, life events, seals."""
