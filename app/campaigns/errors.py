from app.kit.errors import NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = "Campaign not found"
